#include "engine/sequential.h"

#include <string>
#include <vector>

#include "engine/backward_observer.h"
#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

// Sequential must chain forward in order and backward in reverse: a stack of
// scaling layers makes the order observable through the gradient.
class Scale : public Layer {
 public:
  Scale(std::string name, float factor) : Layer(std::move(name)), factor_(factor) {}
  const Tensor& Forward(const Tensor& x, Mode) override { return Apply(x, &y_); }
  const Tensor& Backward(const Tensor& dy) override { return Apply(dy, &dx_); }

 private:
  const Tensor& Apply(const Tensor& in, Tensor* out) {
    out->EnsureDesc(in.desc());
    std::vector<float> v = in.ToPlain();
    for (float& e : v) e *= factor_;
    out->CopyFromPlain(v);
    return *out;
  }
  float factor_;
  Tensor y_, dx_;
};

// Records the layers the active backward observer hears of, in order.
class RecordingObserver : public BackwardObserver {
 public:
  void LayerDone(Layer& layer) override { names.push_back(layer.name()); }
  std::vector<std::string> names;
};

TEST(SequentialTest, TellsTheBackwardObserverAfterEachLayerInBackwardOrder) {
  Sequential net("net");
  net.Emplace<Scale>("a", 2.0f);
  Sequential& inner = net.Emplace<Sequential>("inner");
  inner.Emplace<Scale>("inner.b", 3.0f);
  inner.Emplace<Scale>("inner.c", 4.0f);
  net.Emplace<Scale>("d", 5.0f);
  const Tensor x = testing::RandomPlain({1, 2, 2, 2}, 1);
  const Tensor& y = net.Forward(x, Mode::kTrain);
  RecordingObserver observer;
  {
    BackwardObserver::Observing observing(&observer);
    net.Backward(y);
  }
  EXPECT_EQ(observer.names,
            (std::vector<std::string>{"d", "inner.c", "inner.b", "inner", "a"}));
  net.Backward(y);  // no observer any more
  EXPECT_EQ(observer.names.size(), 5u);
}

TEST(SequentialTest, ChainsForwardAndBackward) {
  Sequential net("net");
  net.Emplace<Scale>("a", 2.0f);
  net.Emplace<Scale>("b", -3.0f);
  const Tensor x = testing::RandomPlain({1, 2, 2, 2}, 1);
  const std::vector<float> y = net.Forward(x, Mode::kTrain).ToPlain();
  const std::vector<float> xs = x.ToPlain();
  for (size_t i = 0; i < y.size(); ++i) EXPECT_FLOAT_EQ(y[i], -6.0f * xs[i]);
  testing::ExpectGradientsMatch(net, x, {});
  EXPECT_EQ(net.size(), 2u);
  EXPECT_EQ(net.at(1).name(), "b");
}

TEST(SequentialTest, EmptyIsRejected) {
  Sequential net("empty");
  EXPECT_THROW(net.Forward(Tensor::Plain({1}), Mode::kTrain), std::invalid_argument);
}

}  // namespace
}  // namespace psg::engine
