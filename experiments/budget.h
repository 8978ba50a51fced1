// The budgets of the paper experiments: how long each training stage of the
// paper's two-stage recipe runs (plain SGD, then PSGD from an SGD checkpoint).
//
//   smoke  seconds: a few batches per stage, a few hundred test images; tests.
//   short  CIFAR-10 ResNet-20 on two cores in well under 90 minutes per
//          experiment: SGD 20 epochs (one-cycle), PSGD 8 epochs from its end.
//   paper  psg-method.md section 5 (there on CIFAR-100 ResNet-32): SGD 150
//          epochs from lr 0.1 (x0.1 after epochs 82 and 123), PSGD from the
//          epoch-82 checkpoint for epochs 83-150 at lr 0.01 (x0.1 at epoch 123).
// The model and data set are the commands' own flags.
//
//   const Recipe r = RecipeFor(*ParseBudget("short"));
//   protocol.Stage("sgd", "train", r.sgd, "result.json");
#ifndef PSG_EXPERIMENTS_BUDGET_H_
#define PSG_EXPERIMENTS_BUDGET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace psg::experiments {

enum class Budget { kSmoke, kShort, kPaper };

// "smoke", "short" or "paper"; an error names the choices.
absl::StatusOr<Budget> ParseBudget(absl::string_view name);
const char* BudgetName(Budget budget);

struct Recipe {
  std::vector<std::string> sgd;      // train flags of the SGD stage (schedule, epochs, ...)
  // The SGD stage's step and epoch PSGD starts from, or 0 for its end
  // (paper: epoch 82).
  int64_t psgd_start_step = 0;
  int64_t psgd_start_epoch = 0;
  std::vector<std::string> psgd;     // train flags of the PSGD stage, besides --optimizer=psgd
  std::vector<std::string> eval;     // flags of every evaluating command (e.g. --max_eval_images)
};

Recipe RecipeFor(Budget budget);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_BUDGET_H_
