// Finding the first NaN or infinity in a model's parameters (weights, biases,
// BN statistics, learned quantizer steps and gates) or their gradients: the
// trainer checks the gradients before every optimizer step and the values
// after it, so a diverging run stops at the step that went wrong, before a
// checkpoint could save it. One vectorized pass per tensor (engine/finite.h).
//
//   if (std::optional<NonFinite> bad = FindNonFinite(params, Check::kGradients)) {
//     return Stop(bad->Describe());   // "gradient of 'conv1.weight' is nan at element 17 of [16,3,3,3]"
//   }
#ifndef PSG_TRAIN_DIVERGENCE_H_
#define PSG_TRAIN_DIVERGENCE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "engine/parameter.h"

namespace psg::train {

enum class Check { kValues, kGradients };

struct NonFinite {
  Check what = Check::kValues;
  std::string tensor;
  int64_t element = 0;
  float value = 0;
  std::string shape;  // "[16,3,3,3]"
  std::string Describe() const;
};

// The first non-finite value of the parameters' values, or of the trainable
// ones' gradients; nullopt when all are finite.
std::optional<NonFinite> FindNonFinite(const engine::ParameterList& params, Check what);

}  // namespace psg::train

#endif  // PSG_TRAIN_DIVERGENCE_H_
