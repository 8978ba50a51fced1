// Learning-rate schedules as functions of the optimizer step (fractional
// epochs come for free: milestone_epoch * steps_per_epoch).
//
//   // One-cycle: 15 % linear warm-up to 0.1, then cosine decay to 0.
//   auto lr = WithLinearWarmup(Cosine(0.1f, total_steps), warmup_steps);
//   sgd.Step(lr->At(step));
#ifndef PSG_ENGINE_LR_SCHEDULE_H_
#define PSG_ENGINE_LR_SCHEDULE_H_

#include <cstdint>
#include <memory>
#include <vector>

namespace psg::engine {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual float At(int64_t step) const = 0;
};

// base * gamma^(number of milestones <= step).
std::unique_ptr<LrSchedule> MultiStep(float base, std::vector<int64_t> milestones, float gamma);
// min + (base - min) * (1 + cos(pi * step / total)) / 2, and min after total.
std::unique_ptr<LrSchedule> Cosine(float base, int64_t total_steps, float min_lr = 0.0f);
std::unique_ptr<LrSchedule> Constant(float value);
// Linear ramp from start_factor * inner(0) to inner(warmup_steps) over the
// first warmup_steps; afterwards inner(step - warmup_steps) (the inner
// schedule starts when the warm-up ends).
std::unique_ptr<LrSchedule> WithLinearWarmup(std::unique_ptr<LrSchedule> inner,
                                             int64_t warmup_steps, float start_factor = 0.0f);

}  // namespace psg::engine

#endif  // PSG_ENGINE_LR_SCHEDULE_H_
