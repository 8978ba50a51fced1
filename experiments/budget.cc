#include "experiments/budget.h"

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
  const std::vector<std::string> sgd_common = {"--momentum=0.9", "--batch_size=128"};
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
    case Budget::kPaper:
      r = {{"--epochs=150", "--schedule=multistep", "--lr=0.1", "--milestones=82,123",
            "--weight_decay=1e-4"},
           82 * (50000 / 128),
           82,
           {"--epochs=68", "--schedule=multistep", "--lr=0.01", "--milestones=41",
            "--weight_decay=1e-4"},
           {}};
      r.sgd.insert(r.sgd.end(), sgd_common.begin(), sgd_common.end());
      r.psgd.insert(r.psgd.end(), sgd_common.begin(), sgd_common.end());
      break;
  }
  return r;
}

}  // namespace psg::experiments
