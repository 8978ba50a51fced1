// A copy of parameters' values, to restore after an in-place change (weight
// quantization, pruning) so that several settings can be tried on one model.
//
//   WeightSnapshot dense(params);
//   QuantizeWeights(params, options);   // or PruneByMagnitude(params, ...)
//   ... evaluate ...
//   dense.Restore();
//   dense.Capture();                    // take the current values again (no allocation)
#ifndef PSG_ENGINE_PARAMETER_SNAPSHOT_H_
#define PSG_ENGINE_PARAMETER_SNAPSHOT_H_

#include <vector>

#include "engine/parameter.h"

namespace psg::engine {

class WeightSnapshot {
 public:
  explicit WeightSnapshot(const ParameterList& params);
  // Saves the parameters' current values into the existing buffers.
  void Capture();
  // Writes the saved values back into the same parameters.
  void Restore() const;

 private:
  ParameterList params_;
  std::vector<std::vector<float>> values_;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_PARAMETER_SNAPSHOT_H_
