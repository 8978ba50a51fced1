#include "engine/init.h"

#include <cmath>

#include "engine/check.h"

namespace psg::engine {

int64_t Fan(const Parameter& weight, FanMode mode) {
  const Dims d = weight.value.dims();
  PSG_CHECK(d.size() >= 2, "fan of '", weight.name, "' needs a weight of rank >= 2, got ",
            DimsToString(d));
  int64_t receptive = 1;
  for (size_t i = 2; i < d.size(); ++i) receptive *= d[i];
  return (mode == FanMode::kFanIn ? d[1] : d[0]) * receptive;
}

void KaimingNormal(Parameter& weight, FanMode mode, std::mt19937_64& rng) {
  std::normal_distribution<float> dist(0.0f, std::sqrt(2.0f / Fan(weight, mode)));
  for (float& v : weight.value.flat()) v = dist(rng);
}

void UniformFanIn(Parameter& param, const Parameter& fan_of, std::mt19937_64& rng) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(Fan(fan_of, FanMode::kFanIn)));
  std::uniform_real_distribution<float> dist(-bound, bound);
  for (float& v : param.value.flat()) v = dist(rng);
}

}  // namespace psg::engine
