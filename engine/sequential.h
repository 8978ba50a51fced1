// A chain of layers run in order forward and in reverse backward.
//
//   Sequential net("features");
//   net.Emplace<Conv2d>("conv1", conv_options);
//   net.Emplace<BatchNorm2d>("bn1", bn_options);
//   const Tensor& y = net.Forward(x, Mode::kTrain);
#ifndef PSG_ENGINE_SEQUENTIAL_H_
#define PSG_ENGINE_SEQUENTIAL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/layer.h"

namespace psg::engine {

class Sequential : public Layer {
 public:
  explicit Sequential(std::string name) : Layer(std::move(name)) {}

  template <typename L, typename... Args>
  L& Emplace(Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    layers_.push_back(std::move(layer));
    return ref;
  }
  Layer& Append(std::unique_ptr<Layer> layer);

  const Tensor& Forward(const Tensor& x, Mode mode) override;
  const Tensor& Backward(const Tensor& dy) override;
  void CollectParameters(ParameterList* out) override;
  int Export(Graph* graph, int input) const override;

  size_t size() const { return layers_.size(); }
  Layer& at(size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_SEQUENTIAL_H_
