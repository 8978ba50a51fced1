// Weight initialization, deterministic for a seed.
//
//   std::mt19937_64 rng(seed);
//   KaimingNormal(conv.weight(), FanMode::kFanOut, rng);   // torchvision ResNet
//   UniformFanIn(fc.weight(), rng);                         // torch.nn.Linear default
#ifndef PSG_ENGINE_INIT_H_
#define PSG_ENGINE_INIT_H_

#include <random>

#include "engine/parameter.h"

namespace psg::engine {

enum class FanMode { kFanIn, kFanOut };

// Fans of a weight laid out {out, in, k...}: fan_in = in * prod(k), fan_out = out * prod(k).
int64_t Fan(const Parameter& weight, FanMode mode);
// N(0, 2 / fan): He et al. for ReLU networks.
void KaimingNormal(Parameter& weight, FanMode mode, std::mt19937_64& rng);
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of `fan_of` (a bias uses its weight's fan).
void UniformFanIn(Parameter& param, const Parameter& fan_of, std::mt19937_64& rng);

}  // namespace psg::engine

#endif  // PSG_ENGINE_INIT_H_
