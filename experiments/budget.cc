#include "experiments/budget.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "data/loader.h"

namespace psg::experiments {

const char* BudgetName(Budget budget) {
  for (const auto& [name, value] : kBudgetNames) {
    if (value == budget) return name.data();  // the names are literals: terminated
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
      r.holdout_images = 64;  // of the 256 training images it trains on
      r.l0_gate_lr = 2;       // moves the gates in its 4 steps
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
      r.l0_gate_lr = 1e-2;
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

Recipe AdamRecipe(const Recipe& recipe) {
  Recipe r = recipe;
  r.sgd.push_back("--optimizer=adam");
  r.sgd.push_back(absl::StrCat("--lr=", kAdamPretrainingLr));  // absl: the last value wins
  r.start_checkpoint.clear();
  return r;
}

PaperSetting ReleasedCifar100Setting() { return {"resnet32", "cifar100"}; }

PaperSetting ImageNetSetting() { return {"resnet18", "imagenet"}; }

std::vector<std::string> PsgdStageFlags(const Recipe& recipe,
                                        const std::vector<std::string>& psg_flags) {
  std::vector<std::string> args = recipe.psgd;
  args.push_back("--optimizer=psgd");
  args.insert(args.end(), psg_flags.begin(), psg_flags.end());
  const bool grid = std::find(psg_flags.begin(), psg_flags.end(), "--psg_target=zero") == psg_flags.end();
  const std::string no_wd_bits = absl::StrCat("--psg_bits=", compression::kReleasedNoWeightDecayBits);
  if (grid && std::find(psg_flags.begin(), psg_flags.end(), no_wd_bits) != psg_flags.end()) {
    args.push_back("--weight_decay=0");  // absl: the last value of a flag wins
  }
  return args;
}

absl::StatusOr<Recipe> ImageNetRecipeFor(Budget budget, int ranks, int global_batch) {
  if (budget == Budget::kSmoke) global_batch = 16;  // 2 steps of the 32 images
  if (ranks < 1 || global_batch < ranks || global_batch % ranks != 0) {
    return absl::InvalidArgumentError(absl::StrCat("a global batch of ", global_batch,
                                                   " images does not split over ", ranks, " ranks"));
  }
  const std::string batch = absl::StrCat("--batch_size=", global_batch / ranks);
  const double lr = 0.1 * global_batch / 256;
  switch (budget) {
    case Budget::kSmoke: {
      const std::vector<std::string> stage = {"--epochs=1", "--max_train_images=32",
                                              "--max_eval_images=16", "--schedule=constant",
                                              "--weight_decay=1e-4", "--momentum=0.9", batch};
      // The evaluations (ptq): 16 test images, one calibration batch of 16.
      Recipe r{stage, 0, 0, stage,
               {"--max_eval_images=16", "--batch_size=16", "--calibration_batches=1"}};
      r.sgd.push_back(absl::StrCat("--lr=", lr));
      r.psgd.push_back(absl::StrCat("--lr=", lr / 10));
      return r;
    }
    case Budget::kShort:
      return absl::InvalidArgumentError(
          "--budget=short is not defined for ImageNet; use --budget=smoke or --budget=paper");
    case Budget::kPaper: {
      // ILSVRC-2012's training set; the step PSGD starts from is the SGD
      // stage's at the end of epoch 30.
      constexpr int64_t kTrainImages = 1281167;
      const int64_t steps_per_epoch =
          data::BatchesPerEpoch(kTrainImages, global_batch / ranks, /*drop_last=*/false, ranks);
      const std::vector<std::string> common = {"--momentum=0.9", "--weight_decay=1e-4",
                                               "--schedule=multistep", batch};
      Recipe r{{"--epochs=90", absl::StrCat("--lr=", lr), "--milestones=30,60,80"},
               30 * steps_per_epoch,
               30,
               {"--epochs=60", absl::StrCat("--lr=", lr / 10), "--milestones=30,50"},
               {}};
      r.sgd.insert(r.sgd.end(), common.begin(), common.end());
      r.psgd.insert(r.psgd.end(), common.begin(), common.end());
      return r;
    }
  }
  return absl::InvalidArgumentError("unknown budget");
}

}  // namespace psg::experiments
