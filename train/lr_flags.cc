#include "train/lr_flags.h"

#include <cmath>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

ABSL_FLAG(double, lr, 0.1, "peak learning rate");
ABSL_FLAG(std::string, schedule, "onecycle", "onecycle, cosine, multistep or constant");
ABSL_FLAG(std::vector<std::string>, milestones, {}, "multistep: epochs at which lr *= gamma");
ABSL_FLAG(double, gamma, 0.1, "multistep decay factor");
ABSL_FLAG(double, warmup_epochs, 0, "linear warm-up epochs before cosine/multistep/constant");
ABSL_FLAG(double, warmup_fraction, 0.15, "onecycle: fraction of the run spent warming up");

namespace psg::train {

absl::StatusOr<std::unique_ptr<engine::LrSchedule>> ScheduleFromFlags(int64_t steps_per_epoch,
                                                                      int64_t epochs) {
  const float lr = absl::GetFlag(FLAGS_lr);
  const int64_t total = steps_per_epoch * epochs;
  const std::string kind = absl::GetFlag(FLAGS_schedule);
  int64_t warmup = std::llround(absl::GetFlag(FLAGS_warmup_epochs) * steps_per_epoch);
  std::unique_ptr<engine::LrSchedule> inner;
  try {
    if (kind == "onecycle") {
      warmup = std::llround(absl::GetFlag(FLAGS_warmup_fraction) * total);
      inner = engine::Cosine(lr, std::max<int64_t>(total - warmup, 1));
    } else if (kind == "cosine") {
      inner = engine::Cosine(lr, std::max<int64_t>(total - warmup, 1));
    } else if (kind == "multistep") {
      std::vector<int64_t> steps;
      for (const std::string& m : absl::GetFlag(FLAGS_milestones)) {
        double epoch;
        if (!absl::SimpleAtod(m, &epoch)) {
          return absl::InvalidArgumentError(absl::StrCat("--milestones: '", m, "' is not a number"));
        }
        steps.push_back(std::llround(epoch * steps_per_epoch) - warmup);
      }
      inner = engine::MultiStep(lr, steps, absl::GetFlag(FLAGS_gamma));
    } else if (kind == "constant") {
      inner = engine::Constant(lr);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--schedule must be onecycle, cosine, multistep or constant; got '", kind, "'"));
    }
    return engine::WithLinearWarmup(std::move(inner), warmup);
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

std::string LrFlagsJson() {
  return absl::StrFormat(
      "\"lr\": %g, \"schedule\": \"%s\", \"milestones\": [%s], \"gamma\": %g, "
      "\"warmup_epochs\": %g, \"warmup_fraction\": %g",
      absl::GetFlag(FLAGS_lr), absl::GetFlag(FLAGS_schedule),
      absl::StrJoin(absl::GetFlag(FLAGS_milestones), ", "), absl::GetFlag(FLAGS_gamma),
      absl::GetFlag(FLAGS_warmup_epochs), absl::GetFlag(FLAGS_warmup_fraction));
}

}  // namespace psg::train
