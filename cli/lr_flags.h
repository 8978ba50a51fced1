// Learning-rate schedule flags shared by the training binaries:
//   --lr=0.1 --schedule=onecycle|cosine|multistep|constant
//   --milestones=82,123 (epochs, multistep) --gamma=0.1 --warmup_epochs=6
// onecycle = linear warm-up over --warmup_fraction of the run, then cosine to 0.
// Ranges (flags/ranges.h): --lr > 0, --gamma in (0, 1], --warmup_epochs >= 0,
// --warmup_fraction in [0, 1); --milestones increasing, each in (0, epochs].
#ifndef PSG_CLI_LR_FLAGS_H_
#define PSG_CLI_LR_FLAGS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "engine/lr_schedule.h"
#include "flags/enum_flag.h"
#include "io/json_writer.h"

namespace psg::cli {

// --schedule.
enum class Schedule { kOneCycle, kCosine, kMultiStep, kConstant };
inline constexpr flags::EnumName<Schedule> kScheduleNames[] = {{"onecycle", Schedule::kOneCycle},
                                                               {"cosine", Schedule::kCosine},
                                                               {"multistep", Schedule::kMultiStep},
                                                               {"constant", Schedule::kConstant}};
PSG_ENUM_FLAG(Schedule, kScheduleNames)

}  // namespace psg::cli

ABSL_DECLARE_FLAG(double, lr);
ABSL_DECLARE_FLAG(psg::cli::Schedule, schedule);
ABSL_DECLARE_FLAG(std::vector<std::string>, milestones);
ABSL_DECLARE_FLAG(double, gamma);
ABSL_DECLARE_FLAG(double, warmup_epochs);
ABSL_DECLARE_FLAG(double, warmup_fraction);

namespace psg::cli {

absl::StatusOr<std::unique_ptr<engine::LrSchedule>> ScheduleFromFlags(int64_t steps_per_epoch,
                                                                      int64_t epochs);
// The flags above as a JSON object, for run records.
io::Json LrFlagsJson();
// The flags a run's position is read under (train::TrainerOptions::
// resume_invariants): all of the above, and --epochs (`epochs`) for the
// schedules whose shape depends on the run's length (all but constant).
std::map<std::string, std::string> ScheduleInvariants(int64_t epochs);

}  // namespace psg::cli

#endif  // PSG_CLI_LR_FLAGS_H_
