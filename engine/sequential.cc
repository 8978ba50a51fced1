#include "engine/sequential.h"

#include "engine/check.h"
#include "engine/graph.h"

namespace psg::engine {

Layer& Sequential::Append(std::unique_ptr<Layer> layer) {
  layers_.push_back(std::move(layer));
  return *layers_.back();
}

const Tensor& Sequential::Forward(const Tensor& x, Mode mode) {
  PSG_CHECK(!layers_.empty(), "Sequential '", name(), "' has no layers");
  const Tensor* h = &x;
  for (auto& layer : layers_) h = &ProfiledForward(*layer, *h, mode);
  return *h;
}

const Tensor& Sequential::Backward(const Tensor& dy) {
  const Tensor* g = &dy;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) g = &ProfiledBackward(**it, *g);
  return *g;
}

void Sequential::CollectParameters(ParameterList* out) {
  for (auto& layer : layers_) layer->CollectParameters(out);
}

int Sequential::Export(Graph* graph, int input) const {
  PSG_CHECK(!layers_.empty(), "Sequential '", name(), "' has no layers");
  for (const auto& layer : layers_) input = layer->Export(graph, input);
  return input;
}

}  // namespace psg::engine
