// Layer: the unit of the engine's networks. A layer owns its parameters, its
// oneDNN primitives (created once per input shape and reused), and its output
// and input-gradient tensors (reused across steps, so steady-state training
// allocates nothing).
//
//   const Tensor& y = layer.Forward(x, Mode::kTrain);
//   const Tensor& dx = layer.Backward(dy);   // also writes parameter gradients
//   int out = layer.Export(&graph, graph.AddInput("input"));  // engine/graph.h
//
// Forward keeps a handle to `x`; the caller must not overwrite x's buffer
// before Backward. Backward writes (does not accumulate) parameter gradients.
#ifndef PSG_ENGINE_LAYER_H_
#define PSG_ENGINE_LAYER_H_

#include <stdexcept>
#include <string>

#include "engine/backward_observer.h"
#include "engine/parameter.h"
#include "engine/profiler.h"
#include "engine/tensor.h"

namespace psg::engine {

enum class Mode { kTrain, kEval };

class Graph;  // engine/graph.h

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  virtual const Tensor& Forward(const Tensor& x, Mode mode) = 0;
  virtual const Tensor& Backward(const Tensor& dy) = 0;
  virtual void CollectParameters(ParameterList* out) { (void)out; }
  // Appends this layer's inference nodes to `graph`, reading node `input`,
  // and returns the id of its output node (see engine/graph.h). Layers that
  // have no inference form keep this default, which throws.
  virtual int Export(Graph* graph, int input) const {
    (void)graph;
    (void)input;
    throw std::invalid_argument("layer '" + name_ + "' cannot be exported to an inference graph");
  }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Forward / Backward timed as a scope of the active profiler, if any
// (engine/profiler.h); after Backward the active backward observer, if any,
// learns that the layer's gradients are ready (engine/backward_observer.h).
// Composite layers run their parts through these.
inline const Tensor& ProfiledForward(Layer& layer, const Tensor& x, Mode mode) {
  ProfileScope scope(layer.name(), Phase::kForward);
  return layer.Forward(x, mode);
}
inline const Tensor& ProfiledBackward(Layer& layer, const Tensor& dy) {
  const Tensor* dx;
  {
    ProfileScope scope(layer.name(), Phase::kBackward);
    dx = &layer.Backward(dy);
  }
  if (BackwardObserver* observer = BackwardObserver::Active()) observer->LayerDone(layer);
  return *dx;
}

}  // namespace psg::engine

#endif  // PSG_ENGINE_LAYER_H_
