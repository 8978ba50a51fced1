#include "cli/lr_flags.h"

#include <cmath>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/reflection.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"

ABSL_FLAG(double, lr, 0.1, "peak learning rate");
PSG_FLAG_RANGE(lr, psg::flags::GreaterThan(0));
ABSL_FLAG(psg::cli::Schedule, schedule, psg::cli::Schedule::kOneCycle,
          "onecycle, cosine, multistep or constant");
ABSL_FLAG(std::vector<std::string>, milestones, {}, "multistep: epochs at which lr *= gamma");
ABSL_FLAG(double, gamma, 0.1, "multistep decay factor");
PSG_FLAG_RANGE(gamma, (psg::flags::Range{0, 1, true, false}));
ABSL_FLAG(double, warmup_epochs, 0, "linear warm-up epochs before cosine/multistep/constant");
PSG_FLAG_RANGE(warmup_epochs, psg::flags::AtLeast(0));
ABSL_FLAG(double, warmup_fraction, 0.15, "onecycle: fraction of the run spent warming up");
PSG_FLAG_RANGE(warmup_fraction, psg::flags::FromUpTo(0, 1));

namespace psg::cli {

absl::StatusOr<std::unique_ptr<engine::LrSchedule>> ScheduleFromFlags(int64_t steps_per_epoch,
                                                                      int64_t epochs) {
  const float lr = absl::GetFlag(FLAGS_lr);
  const int64_t total = steps_per_epoch * epochs;
  const Schedule kind = absl::GetFlag(FLAGS_schedule);
  int64_t warmup = std::llround(absl::GetFlag(FLAGS_warmup_epochs) * steps_per_epoch);
  std::unique_ptr<engine::LrSchedule> inner;
  try {
    if (kind == Schedule::kOneCycle) {
      warmup = std::llround(absl::GetFlag(FLAGS_warmup_fraction) * total);
      inner = engine::Cosine(lr, std::max<int64_t>(total - warmup, 1));
    } else if (kind == Schedule::kCosine) {
      inner = engine::Cosine(lr, std::max<int64_t>(total - warmup, 1));
    } else if (kind == Schedule::kMultiStep) {
      absl::StatusOr<std::vector<double>> epochs_at = flags::ParseNumbers(
          "milestones", absl::GetFlag(FLAGS_milestones),
          flags::Range{0, static_cast<double>(epochs), true, false}, flags::Order::kIncreasing);
      if (!epochs_at.ok()) return epochs_at.status();
      std::vector<int64_t> steps;
      for (double epoch : *epochs_at) steps.push_back(std::llround(epoch * steps_per_epoch) - warmup);
      inner = engine::MultiStep(lr, steps, absl::GetFlag(FLAGS_gamma));
    } else {
      inner = engine::Constant(lr);
    }
    return engine::WithLinearWarmup(std::move(inner), warmup);
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

io::Json LrFlagsJson() {
  io::Json milestones = io::Json::array();
  for (const std::string& m : absl::GetFlag(FLAGS_milestones)) {
    double epoch = 0;
    milestones.push_back(absl::SimpleAtod(m, &epoch) ? io::Json(epoch) : io::Json(m));
  }
  return {{"lr", absl::GetFlag(FLAGS_lr)},
          {"schedule", absl::UnparseFlag(absl::GetFlag(FLAGS_schedule))},
          {"milestones", milestones},
          {"gamma", absl::GetFlag(FLAGS_gamma)},
          {"warmup_epochs", absl::GetFlag(FLAGS_warmup_epochs)},
          {"warmup_fraction", absl::GetFlag(FLAGS_warmup_fraction)}};
}

std::map<std::string, std::string> ScheduleInvariants(int64_t epochs) {
  std::map<std::string, std::string> invariants = {
      {"lr", absl::GetFlagReflectionHandle(FLAGS_lr).CurrentValue()},
      {"schedule", absl::UnparseFlag(absl::GetFlag(FLAGS_schedule))},
      {"milestones", absl::GetFlagReflectionHandle(FLAGS_milestones).CurrentValue()},
      {"gamma", absl::GetFlagReflectionHandle(FLAGS_gamma).CurrentValue()},
      {"warmup_epochs", absl::GetFlagReflectionHandle(FLAGS_warmup_epochs).CurrentValue()},
      {"warmup_fraction", absl::GetFlagReflectionHandle(FLAGS_warmup_fraction).CurrentValue()}};
  if (absl::GetFlag(FLAGS_schedule) != Schedule::kConstant) invariants["epochs"] = absl::StrCat(epochs);
  return invariants;
}

}  // namespace psg::cli
