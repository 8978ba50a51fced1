// The budgets of the paper experiments: how long each training stage of the
// paper's two-stage recipe runs (plain SGD, then PSGD from an SGD checkpoint).
//
//   smoke  seconds: a few batches per stage, a few hundred test images; tests.
//   short  CIFAR-10 ResNet-20 on two cores in well under 90 minutes per
//          experiment: SGD 20 epochs (one-cycle), PSGD 8 epochs from its end.
//   paper  the released recipe (psg-method.md section 5; PSG-pytorch
//          train.py and utils.py), in each table's own setting (ResNet-32 on
//          CIFAR-100 for the released tables): SGD 150 epochs from lr 0.1
//          (x0.1 after epochs 82 and 123), PSGD from the epoch-82 checkpoint
//          for epochs 83-150 at lr 0.01 (x0.1 at epoch 123, 40 PSGD epochs in),
//          batch 128 with the last partial batch kept (391 steps per epoch).
// At smoke and short budgets the model and data set are the commands' own flags.
//
//   const Recipe r = RecipeFor(Budget::kShort);
//   protocol.Stage("sgd", "train", r.sgd, "result.json");
#ifndef PSG_EXPERIMENTS_BUDGET_H_
#define PSG_EXPERIMENTS_BUDGET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "compression/released_defaults.h"
#include "flags/enum_flag.h"

namespace psg::experiments {

enum class Budget { kSmoke, kShort, kPaper };
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<Budget> kBudgetNames[] = {
    {"smoke", Budget::kSmoke}, {"short", Budget::kShort}, {"paper", Budget::kPaper}};
PSG_ENUM_FLAG(Budget, kBudgetNames)

// "smoke", "short" or "paper".
const char* BudgetName(Budget budget);

// The released recipe's numbers (PSG-pytorch train.py, utils.py), defined once.
inline constexpr int kReleasedBatchSize = 128;
inline constexpr int64_t kReleasedCifarStepsPerEpoch = 391;  // ceil(50000 / 128): drop_last off
inline constexpr int64_t kReleasedPsgdStartEpoch = 82;       // --resume_epoch 83
inline constexpr int64_t kReleasedFinalEpoch = 150;          // --epoch 150
inline constexpr int64_t kReleasedPsgdDecayEpoch = 123;      // --decay_epoch 123
inline constexpr double kReleasedPsgdLr = 0.01;              // --lr 0.01 (SGD)
inline constexpr double kReleasedPsgdAdamLr = 1e-4;          // --lr 1e-4 with --adam 1
inline constexpr double kReleasedWeightDecay = 1e-4;         // --w_decay 1e-4
// PSG's own released defaults (lambda_s, the 2-bit rule without weight decay,
// PSG-Adam's lr factor) are compression/released_defaults.h's.
// hyperparmeter_search.py, utils.get_cifar100_dataloaders_disjoint: lambda_s
// is chosen on the first 10,000 of the shuffled training images, held out.
inline constexpr int64_t kReleasedHoldoutImages = 10000;

// Where --budget=paper runs a table: the setting the paper reports it in.
struct PaperSetting {
  std::string model, dataset;
  bool available = true;  // false: this toolkit cannot run it yet (`why` says so)
  std::string why;
};
// The released tables (Fig. 1 / Table A1, Table 1, the Adam appendix): ResNet-32 on CIFAR-100.
PaperSetting ReleasedCifar100Setting();
// The ImageNet tables (Tables 2-4): ResNet-18 on ImageNet.
PaperSetting ImageNetSetting();

struct Recipe {
  std::vector<std::string> sgd;      // train flags of the SGD stage (schedule, epochs, ...)
  // The SGD stage's step and epoch PSGD starts from, or 0 for its end
  // (paper: epoch 82).
  int64_t psgd_start_step = 0;
  int64_t psgd_start_epoch = 0;
  std::vector<std::string> psgd;     // train flags of the PSGD stage, besides --optimizer=psgd
  std::vector<std::string> eval;     // flags of every evaluating command (e.g. --max_eval_images)
  // The SGD stage's checkpoint at psgd_start_step, given instead of trained
  // (paper budget: the authors' ResNet82.pth, imported); empty: train it.
  std::string start_checkpoint;
  // Training images a hyper-parameter search holds out for validation
  // (--holdout_images).
  int64_t holdout_images = kReleasedHoldoutImages;
  // L0's gates (pruning's baseline) by their own Adam at this peak lr. A gate
  // starts at log_alpha = log(9) (initial drop 0.1) and is closed at
  // evaluation below -log(11), 4.6 away; Adam moves a parameter about lr per
  // step, so the PSGD phase's steps times this lr must be well above that.
  // The paper budget's ~16,700 steps (counted at the peak lr) allow the 1e-3
  // of the reference code's Adam (Louizos et al., train_lenet5.py); the short
  // budget's 2,400 would stop every gate short of closing at 1e-3 (measured:
  // sparsity 0 at lambda 1e-4 to 2e-3), hence 1e-2.
  double l0_gate_lr = 1e-3;
};

Recipe RecipeFor(Budget budget);

// PSG-Adam (the released appendix) starts from an Adam-trained model with its
// Adam moments; the released code does not include that training. Here: the
// recipe's SGD stage (schedule, epochs, weight decay) run with
// torch.optim.Adam's defaults and lr kAdamPretrainingLr, from scratch also at
// the paper budget (the released epoch-82 start is an SGD model).
inline constexpr double kAdamPretrainingLr = 1e-3;  // torch.optim.Adam's default lr
Recipe AdamRecipe(const Recipe& recipe);
// PSG-Adam's learning rate for base lr `lr`: lr * 1e-2 * lambda_s (train.py).
inline double PsgdAdamEffectiveLr(double lr, double lambda) {
  return lr * compression::kReleasedPsgAdamLrFactor * lambda;
}

// The train flags of a PSGD stage: the recipe's PSGD flags, --optimizer=psgd,
// `psg_flags`, and the released rule that a 2-bit grid trains without weight
// decay.
std::vector<std::string> PsgdStageFlags(const Recipe& recipe,
                                        const std::vector<std::string>& psg_flags);

// ImageNet (ResNet-18; --dataset=imagenet) on `ranks` data-parallel ranks
// with `global_batch` images per step over all of them (each rank's
// --batch_size is global_batch / ranks; an error if that does not divide):
//   smoke  the 100-image sample: 1 epoch of 32 images per stage in global
//          batches of 16 (whatever `global_batch`), 16 test images.
//   short  not defined for ImageNet (an error).
//   paper  the standard ResNet-18 recipe (the paper's own ImageNet settings are
//          not available): SGD 90 epochs, lr 0.1 x global_batch / 256, x0.1
//          after epochs 30, 60 and 80, weight decay 1e-4, momentum 0.9; PSGD,
//          as in the released CIFAR recipe, from the SGD checkpoint at the
//          first decay (epoch 30) for epochs 31-90 at the decayed lr
//          (x0.1 after epochs 60 and 80).
absl::StatusOr<Recipe> ImageNetRecipeFor(Budget budget, int ranks, int global_batch);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_BUDGET_H_
