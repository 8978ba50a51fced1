// A hook after each layer's backward pass: once Layer::Backward of a layer
// returns, its parameter gradients are final for the step, so data-parallel
// training can start reducing them while the layers before it still run
// backward (dist/gradient_reducer.h).
//
//   class Reducer : public BackwardObserver {
//     void LayerDone(Layer& layer) override { /* layer's gradients are ready */ }
//   };
//   {
//     BackwardObserver::Observing observing(&reducer);  // active until destroyed
//     model.Backward(dy);   // LayerDone for every layer run through ProfiledBackward
//   }
//
// Composite layers (Sequential, the ResNet blocks) run their parts through
// ProfiledBackward (engine/layer.h), which calls the active observer after
// each of them, then after the composite itself. Single thread of control,
// like the profiler: the active observer is one per process.
#ifndef PSG_ENGINE_BACKWARD_OBSERVER_H_
#define PSG_ENGINE_BACKWARD_OBSERVER_H_

namespace psg::engine {

class Layer;

class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  virtual void LayerDone(Layer& layer) = 0;

  // Makes `observer` the active one for its lifetime (then restores the previous).
  class Observing {
   public:
    explicit Observing(BackwardObserver* observer);
    ~Observing();
    Observing(const Observing&) = delete;
    Observing& operator=(const Observing&) = delete;

   private:
    BackwardObserver* previous_;
  };

  // The active observer, or null.
  static BackwardObserver* Active();
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_BACKWARD_OBSERVER_H_
