#include "models/zoo.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/loss.h"
#include "engine/optimizer.h"
#include "engine/precision.h"
#include "engine/testing/gradient_check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::models {
namespace {

using engine::Mode;

int64_t Count(const std::string& name, ShortcutKind shortcut = ShortcutKind::kProjection,
              int64_t classes = 10) {
  auto net = BuildModel({name, classes, shortcut});
  return CountTrainableParameters(*net);
}

// Published counts: He et al. 2016's CIFAR ResNets (0.27 M, 0.46 M, 0.66 M,
// 0.85 M, 1.7 M; the exact option-A counts of the widely used PyTorch port),
// torchvision's ResNet-18 (11,689,512) and the common CIFAR VGG-16-BN
// (14,728,266).
TEST(ZooTest, ParameterCountsMatchPublishedOnes) {
  EXPECT_EQ(Count("resnet20", ShortcutKind::kZeroPad), 269722);
  EXPECT_EQ(Count("resnet32", ShortcutKind::kZeroPad), 464154);
  EXPECT_EQ(Count("resnet44", ShortcutKind::kZeroPad), 658586);
  EXPECT_EQ(Count("resnet56", ShortcutKind::kZeroPad), 853018);
  EXPECT_EQ(Count("resnet110", ShortcutKind::kZeroPad), 1727962);
  // Option B adds two 1x1 projections with BN: 16*32 + 2*32 + 32*64 + 2*64.
  EXPECT_EQ(Count("resnet20"), 269722 + 2752);
  EXPECT_EQ(Count("resnet32"), 464154 + 2752);
  EXPECT_EQ(Count("resnet18", ShortcutKind::kProjection, 1000), 11689512);
  EXPECT_EQ(Count("vgg16_bn"), 14728266);
  // LeNet-5: 156 + 2416 + 48120 + 10164 + 850.
  EXPECT_EQ(Count("lenet5"), 61706);
}

TEST(ZooTest, EveryModelProducesLogitsOfTheRightShape) {
  for (const std::string& name : ModelNames()) {
    SCOPED_TRACE(name);
    const int64_t classes = name == "resnet18" ? 1000 : 7;
    auto net = BuildModel({name, classes});
    InitializeParameters(*net, 1);
    const engine::Dims in = InputDims(name);
    const engine::Tensor x = engine::testing::RandomPlain({2, in[0], in[1], in[2]}, 2);
    const engine::Tensor& y = net->Forward(x, Mode::kEval);
    EXPECT_EQ(y.dims(), (engine::Dims{2, classes}));
  }
}

// TakesAnyImageSize against the models themselves: those that take any size
// give logits for square images of other sizes than InputDims' (odd too).
TEST(ZooTest, ModelsTakingAnyImageSizeGiveLogitsAtOtherSizes) {
  std::vector<std::string> any_size;
  for (const std::string& name : ModelNames()) {
    if (!TakesAnyImageSize(name)) continue;
    SCOPED_TRACE(name);
    any_size.push_back(name);
    auto net = BuildModel({name, 5});
    InitializeParameters(*net, 1);
    const engine::Dims in = InputDims(name);
    for (const int64_t size : {45, 7}) {
      const engine::Tensor x = engine::testing::RandomPlain({2, in[0], size, size}, 3);
      EXPECT_EQ(net->Forward(x, Mode::kEval).dims(), (engine::Dims{2, 5}));
    }
  }
  EXPECT_THAT(any_size, ::testing::ElementsAre("resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
                                               "resnet18"));
}

TEST(ZooTest, UnknownModelIsRejectedWithTheKnownNames) {
  EXPECT_THAT([] { BuildModel({"resnet21"}); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("unknown model 'resnet21'; known: resnet20, resnet32")));
}

// End to end: forward, loss, backward and SGD fit one small batch, in fp32
// and (where the CPU has it) bf16.
TEST(ZooTest, ResNet20FitsASmallBatch) {
  for (const auto& [shortcut, precision] :
       {std::pair{ShortcutKind::kProjection, engine::Precision::kFp32},
        std::pair{ShortcutKind::kZeroPad, engine::Precision::kFp32},
        std::pair{ShortcutKind::kProjection, engine::Precision::kBf16},
        std::pair{ShortcutKind::kZeroPad, engine::Precision::kBf16}}) {
    if (precision == engine::Precision::kBf16 && !engine::Bf16Supported()) {
      std::printf("bf16 left out: this CPU has no AVX512-BF16\n");
      continue;
    }
    SCOPED_TRACE(engine::PrecisionName(precision));
    auto net = BuildModel(
        {.name = "resnet20", .num_classes = 10, .shortcut = shortcut, .precision = precision});
    InitializeParameters(*net, 3);
    engine::ParameterList params;
    net->CollectParameters(&params);
    engine::Sgd sgd(engine::TrainableOnly(params), {.momentum = 0.9f});
    engine::SoftmaxCrossEntropy loss({});
    const engine::Tensor x = engine::testing::RandomPlain({8, 3, 32, 32}, 4);
    const std::vector<int32_t> labels = {0, 1, 2, 3, 4, 5, 6, 7};
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      last = loss.Forward(net->Forward(x, Mode::kTrain), labels);
      if (step == 0) first = last;
      net->Backward(loss.Backward());
      sgd.Step(0.05f);
    }
    EXPECT_LT(last, 0.2 * first);
    EXPECT_EQ(loss.correct(), 8);
  }
}

// The gradients of a ResNet at initialization hang on small differences of
// large terms (batch norm's backward removes each channel's mean and its
// projection on the normalized input): rounding just the weights of an fp32
// ResNet-20 to bf16 (at most 2^-8 relative) moves its parameter gradients by
// 10-27 % (relative L2, deepest to first layer; 13-22 % all together). A bf16
// network also rounds every activation and gradient, each layer within its
// bf16 bound (bf16_layers_test), so its gradients may move somewhat more, not
// another order: all gradients together at most twice the weight rounding's own effect
// (+1 %), while a wrong layout, a lost conversion or a stale weight copy moves
// them by ~100 %. The logits agree to bf16's precision: 1/16 relative L2 over
// 21 layers. (ResNet20FitsASmallBatch trains it.)
// Measured: logits 0.3-0.8 %, gradients 1.4-1.5x the weight rounding's effect.
double RelativeL2(const std::vector<float>& got, const std::vector<float>& want) {
  double diff2 = 0, norm2 = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff2 += (got[i] - want[i]) * double(got[i] - want[i]);
    norm2 += want[i] * double(want[i]);
  }
  return std::sqrt(diff2 / norm2);
}

// One training step's logits and trainable parameters' gradients.
struct StepResult {
  std::vector<float> logits;
  std::vector<std::vector<float>> grads;
  std::vector<std::string> names;
};

StepResult OneStep(engine::Layer& net, const engine::Tensor& x, const std::vector<int32_t>& labels) {
  engine::SoftmaxCrossEntropy loss({});
  StepResult r;
  const engine::Tensor& logits = net.Forward(x, Mode::kTrain);
  EXPECT_EQ(logits.data_type(), dnnl::memory::data_type::f32);
  r.logits = logits.ToPlain();
  loss.Forward(logits, labels);
  net.Backward(loss.Backward());
  engine::ParameterList params;
  net.CollectParameters(&params);
  for (engine::Parameter* p : engine::TrainableOnly(params)) {
    EXPECT_EQ(p->grad.data_type(), dnnl::memory::data_type::f32) << p->name;
    r.grads.push_back(p->grad.ToPlain());
    r.names.push_back(p->name);
  }
  return r;
}

float RoundToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  std::memcpy(&x, &bits, sizeof(bits));
  return x;
}

TEST(ZooTest, Bf16ResNet20FollowsFp32) {
  if (!engine::Bf16Supported()) {
    GTEST_SKIP() << "this CPU has no AVX512-BF16 (oneDNN's ISA: " << engine::EffectiveIsaName()
                 << ")";
  }
  const engine::Tensor x = engine::testing::RandomPlain({8, 3, 32, 32}, 4);
  const std::vector<int32_t> labels = {0, 1, 2, 3, 4, 5, 6, 7};
  for (ShortcutKind shortcut : {ShortcutKind::kProjection, ShortcutKind::kZeroPad}) {
    SCOPED_TRACE(shortcut == ShortcutKind::kProjection ? "projection" : "zero-pad");
    auto fp32 = BuildModel({.name = "resnet20", .shortcut = shortcut});
    auto rounded = BuildModel({.name = "resnet20", .shortcut = shortcut});
    auto bf16 = BuildModel(
        {.name = "resnet20", .shortcut = shortcut, .precision = engine::Precision::kBf16});
    for (auto* net : {fp32.get(), rounded.get(), bf16.get()}) InitializeParameters(*net, 3);
    engine::ParameterList params;
    rounded->CollectParameters(&params);
    for (engine::Parameter* p : engine::TrainableOnly(params)) {
      std::vector<float> v = p->value.ToPlain();
      for (float& e : v) e = RoundToBf16(e);
      p->value.CopyFromPlain(v);
    }
    const StepResult want = OneStep(*fp32, x, labels);
    const StepResult reference = OneStep(*rounded, x, labels);
    const StepResult got = OneStep(*bf16, x, labels);
    const double logit_error = RelativeL2(got.logits, want.logits);
    EXPECT_LE(logit_error, 1.0 / 16);
    // All gradients as one vector (the step the optimizer takes).
    auto flat = [](const StepResult& r) {
      std::vector<float> all;
      for (const auto& g : r.grads) all.insert(all.end(), g.begin(), g.end());
      return all;
    };
    const double error = RelativeL2(flat(got), flat(want));
    const double sensitivity = RelativeL2(flat(reference), flat(want));
    EXPECT_LE(error, 2 * sensitivity + 0.01);
    std::printf("bf16 vs fp32 ResNet-20: logits %.4f, gradients %.4f (weights rounded: %.4f)\n",
                logit_error, error, sensitivity);
  }
}

// An identity layer that counts its calls, as an activation_layer factory's product.
struct CallCounts {
  int forward = 0, backward = 0;
};
class CountingIdentity : public engine::Layer {
 public:
  CountingIdentity(std::string name, CallCounts* counts) : Layer(std::move(name)), counts_(counts) {}
  const engine::Tensor& Forward(const engine::Tensor& x, Mode) override {
    ++counts_->forward;
    return x;
  }
  const engine::Tensor& Backward(const engine::Tensor& dy) override {
    ++counts_->backward;
    return dy;
  }

 private:
  CallCounts* counts_;
};

TEST(ZooTest, BatchNormBeforeNamesTheBatchNormFeedingEachActivation) {
  for (const std::string model : {"resnet20", "resnet18", "vgg16_bn", "lenet5"}) {
    std::vector<std::string> names;
    ModelOptions o{.name = model};
    o.activation_layer = [&](const std::string& name) -> std::unique_ptr<engine::Layer> {
      names.push_back(name);
      return std::make_unique<CountingIdentity>(name, nullptr);
    };
    auto net = BuildModel(o);
    engine::ParameterList params;
    net->CollectParameters(&params);
    std::set<std::string> gammas;
    for (const engine::Parameter* p : params) gammas.insert(p->name);
    for (const std::string& act : names) {
      const std::string bn = BatchNormBefore(act);
      if (model == "lenet5") {
        EXPECT_EQ(bn, "") << act;  // its ReLUs follow convolutions and linear layers
      } else {
        EXPECT_TRUE(gammas.count(bn + ".weight") && gammas.count(bn + ".running_var"))
            << model << ": " << act << " -> '" << bn << "'";
      }
    }
  }
  EXPECT_EQ(BatchNormBefore("layer2.3.add.act"), "layer2.3.bn2");  // the block's last BN
  EXPECT_EQ(BatchNormBefore("layer2.3.bn1.act"), "layer2.3.bn1");
  EXPECT_EQ(BatchNormBefore("bn1.act"), "bn1");
  EXPECT_EQ(BatchNormBefore("features.4.bn.act"), "features.4.bn");
  EXPECT_EQ(BatchNormBefore("layer1.0.bn1"), "");
}

TEST(ZooTest, ActivationFactoryInsertsALayerAfterEveryReluOutput) {
  const std::pair<std::string, int> expected[] = {
      {"resnet20", 1 + 3 * 3 * 2}, {"resnet32", 1 + 3 * 5 * 2}, {"resnet18", 1 + 4 * 2 * 2},
      {"vgg16_bn", 13}, {"lenet5", 4}};
  for (const auto& [model, count] : expected) {
    std::vector<std::string> names;
    CallCounts calls;
    ModelOptions o{.name = model};
    o.activation_layer = [&](const std::string& name) -> std::unique_ptr<engine::Layer> {
      names.push_back(name);
      return std::make_unique<CountingIdentity>(name, &calls);
    };
    auto net = BuildModel(o);
    EXPECT_EQ(static_cast<int>(names.size()), count) << model;
    // Identity layers leave the parameters (names and all) as without them.
    engine::ParameterList with, without;
    net->CollectParameters(&with);
    auto plain = BuildModel({.name = model});
    plain->CollectParameters(&without);
    ASSERT_EQ(with.size(), without.size()) << model;
    for (size_t i = 0; i < with.size(); ++i) EXPECT_EQ(with[i]->name, without[i]->name);
    if (model == "resnet20") {
      EXPECT_EQ(names[0], "bn1.act");
      EXPECT_EQ(names[1], "layer1.0.bn1.act");
      EXPECT_EQ(names[2], "layer1.0.add.act");
      InitializeParameters(*net, 1);
      const engine::Tensor x = engine::testing::RandomPlain({2, 3, 32, 32}, 3);
      const engine::Tensor& y = net->Forward(x, Mode::kTrain);
      net->Backward(y);
      EXPECT_EQ(calls.forward, count);
      EXPECT_EQ(calls.backward, count);
    }
  }
}

// block_mid_channels narrows conv1/bn1 and conv2's input of the named blocks
// only; names and the other shapes stay as they are.
TEST(ZooTest, BlockMidChannelsNarrowsTheNamedBlocks) {
  ModelOptions o{"resnet20"};
  o.block_mid_channels = {{"layer1.0", 5}, {"layer3.2", 7}};
  auto net = BuildModel(o);
  engine::ParameterList params;
  net->CollectParameters(&params);
  std::map<std::string, engine::Dims> dims;
  for (const engine::Parameter* p : params) dims[p->name] = p->value.dims();
  EXPECT_EQ(dims["layer1.0.conv1.weight"], (engine::Dims{5, 16, 3, 3}));
  EXPECT_EQ(dims["layer1.0.bn1.running_var"], (engine::Dims{5}));
  EXPECT_EQ(dims["layer1.0.conv2.weight"], (engine::Dims{16, 5, 3, 3}));
  EXPECT_EQ(dims["layer1.1.conv1.weight"], (engine::Dims{16, 16, 3, 3}));
  EXPECT_EQ(dims["layer3.2.conv2.weight"], (engine::Dims{64, 7, 3, 3}));
  EXPECT_EQ(CountTrainableParameters(*net),
            Count("resnet20") - (16 - 5) * (16 * 9 * 2 + 2) - (64 - 7) * (64 * 9 * 2 + 2));
  const engine::Tensor& y =
      net->Forward(engine::Tensor::Plain({2, 3, 32, 32}), Mode::kEval);
  EXPECT_EQ(y.dims(), (engine::Dims{2, 10}));

  o.block_mid_channels = {{"layer4.0", 8}};
  EXPECT_THROW(BuildModel(o), std::invalid_argument);
  o.block_mid_channels = {{"layer1.0", 0}};
  EXPECT_THROW(BuildModel(o), std::invalid_argument);
}

}  // namespace
}  // namespace psg::models
