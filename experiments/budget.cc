#include "experiments/budget.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace psg::experiments {

absl::StatusOr<Budget> ParseBudget(absl::string_view name) {
  if (name == "smoke") return Budget::kSmoke;
  if (name == "short") return Budget::kShort;
  if (name == "paper") return Budget::kPaper;
  return absl::InvalidArgumentError(
      absl::StrCat("--budget must be smoke, short or paper, got '", name, "'"));
}

const char* BudgetName(Budget budget) {
  switch (budget) {
    case Budget::kSmoke: return "smoke";
    case Budget::kShort: return "short";
    case Budget::kPaper: return "paper";
  }
  return "?";
}

Recipe RecipeFor(Budget budget) {
  const std::vector<std::string> sgd_common = {"--momentum=0.9",
                                               absl::StrCat("--batch_size=", kReleasedBatchSize)};
  Recipe r;
  switch (budget) {
    case Budget::kSmoke:
      r = {{"--epochs=1", "--max_train_images=256", "--schedule=constant", "--lr=0.05",
            "--weight_decay=5e-4", "--batch_size=64", "--momentum=0.9"},
           0,
           0,
           {"--epochs=1", "--max_train_images=256", "--schedule=constant", "--lr=0.01",
            "--weight_decay=1e-4", "--batch_size=64", "--momentum=0.9"},
           {"--max_eval_images=256"}};
      break;
    case Budget::kShort:
      r = {{"--epochs=20", "--schedule=onecycle", "--lr=0.1", "--nesterov", "--weight_decay=5e-4"},
           0,
           0,
           {"--epochs=8", "--schedule=multistep", "--lr=0.01", "--milestones=6",
            "--weight_decay=1e-4"},
           {}};
      r.sgd.insert(r.sgd.end(), sgd_common.begin(), sgd_common.end());
      r.psgd.insert(r.psgd.end(), sgd_common.begin(), sgd_common.end());
      break;
    case Budget::kPaper: {
      const std::string wd = absl::StrCat("--weight_decay=", kReleasedWeightDecay);
      r = {{absl::StrCat("--epochs=", kReleasedFinalEpoch), "--schedule=multistep", "--lr=0.1",
            // The second decay takes effect at epoch 123, as in the PSGD phase.
            absl::StrCat("--milestones=", kReleasedPsgdStartEpoch, ",", kReleasedPsgdDecayEpoch - 1), wd},
           kReleasedPsgdStartEpoch * kReleasedCifarStepsPerEpoch,
           kReleasedPsgdStartEpoch,
           {absl::StrCat("--epochs=", kReleasedFinalEpoch - kReleasedPsgdStartEpoch),
            "--schedule=multistep", absl::StrCat("--lr=", kReleasedPsgdLr),
            absl::StrCat("--milestones=", kReleasedPsgdDecayEpoch - kReleasedPsgdStartEpoch - 1), wd},
           {}};
      r.sgd.insert(r.sgd.end(), sgd_common.begin(), sgd_common.end());
      r.psgd.insert(r.psgd.end(), sgd_common.begin(), sgd_common.end());
      break;
    }
  }
  return r;
}

PaperSetting ReleasedCifar100Setting() { return {"resnet32", "cifar100"}; }

PaperSetting ImageNetSetting() {
  return {"resnet18", "imagenet", false,
          "the paper runs this table on ImageNet with ResNet-18, and --dataset=imagenet is not "
          "in the toolkit yet; run --budget=short for the CIFAR version"};
}

std::vector<std::string> PsgdStageFlags(const Recipe& recipe,
                                        const std::vector<std::string>& psg_flags) {
  std::vector<std::string> args = recipe.psgd;
  args.push_back("--optimizer=psgd");
  args.insert(args.end(), psg_flags.begin(), psg_flags.end());
  const bool grid = std::find(psg_flags.begin(), psg_flags.end(), "--psg_target=zero") == psg_flags.end();
  const std::string no_wd_bits = absl::StrCat("--psg_bits=", kReleasedNoWeightDecayBits);
  if (grid && std::find(psg_flags.begin(), psg_flags.end(), no_wd_bits) != psg_flags.end()) {
    args.push_back("--weight_decay=0");  // absl: the last value of a flag wins
  }
  return args;
}

}  // namespace psg::experiments
