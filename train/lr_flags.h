// Learning-rate schedule flags shared by the training binaries:
//   --lr=0.1 --schedule=onecycle|cosine|multistep|constant
//   --milestones=82,123 (epochs, multistep) --gamma=0.1 --warmup_epochs=6
// onecycle = linear warm-up over --warmup_fraction of the run, then cosine to 0.
#ifndef PSG_TRAIN_LR_FLAGS_H_
#define PSG_TRAIN_LR_FLAGS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "engine/lr_schedule.h"

ABSL_DECLARE_FLAG(double, lr);
ABSL_DECLARE_FLAG(std::string, schedule);
ABSL_DECLARE_FLAG(std::vector<std::string>, milestones);
ABSL_DECLARE_FLAG(double, gamma);
ABSL_DECLARE_FLAG(double, warmup_epochs);
ABSL_DECLARE_FLAG(double, warmup_fraction);

namespace psg::train {

absl::StatusOr<std::unique_ptr<engine::LrSchedule>> ScheduleFromFlags(int64_t steps_per_epoch,
                                                                      int64_t epochs);
// The flags above as JSON members (no braces), for run records.
std::string LrFlagsJson();

}  // namespace psg::train

#endif  // PSG_TRAIN_LR_FLAGS_H_
