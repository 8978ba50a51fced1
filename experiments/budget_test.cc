// Pins the paper budget to the authors' released recipe (PSG-pytorch, commit
// 878e8ac): train.py's defaults and its README command
//   python train.py --arch ResNet32 --load_pretrained models/ResNet82.pth --lr 0.01
//       --epoch 150 --decay_epoch 123 --adam 0 --w_bit 4 --lambda_s 150 ...
// and utils.py's CIFAR-100 loader. These test the recipe, not the arithmetic.
#include "experiments/budget.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compression/released_defaults.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::experiments {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

TEST(PaperRecipeTest, SgdStageIsTheReleasedSchedule) {
  const Recipe r = RecipeFor(Budget::kPaper);
  // 150 epochs from lr 0.1; the released checkpoint at epoch 82 was saved with
  // lr 0.01 (decayed after 82), and the second decay takes effect at epoch 123
  // as in the PSGD phase (MultiStepLR milestone 123 - 83 = 40 epochs in).
  EXPECT_THAT(r.sgd, ElementsAre("--epochs=150", "--schedule=multistep", "--lr=0.1",
                                 "--milestones=82,122", "--weight_decay=0.0001", "--momentum=0.9",
                                 "--batch_size=128"));
}

TEST(PaperRecipeTest, PsgdStageIsTrainPyWithItsDefaults) {
  const Recipe r = RecipeFor(Budget::kPaper);
  // --resume_epoch 83 --epoch 150: 68 epochs; --decay_epoch 123: after 40 of
  // them; --lr 0.01; --w_decay 1e-4; SGD(momentum=0.9, nesterov=False); batch 128.
  EXPECT_THAT(r.psgd, ElementsAre("--epochs=68", "--schedule=multistep", "--lr=0.01",
                                  "--milestones=40", "--weight_decay=0.0001", "--momentum=0.9",
                                  "--batch_size=128"));
  // utils.py: DataLoader(batch_size=128, shuffle=True) keeps the last partial
  // batch, so an epoch of 50,000 images is 391 steps and epoch 82 ends at step 32,062.
  EXPECT_EQ(kReleasedCifarStepsPerEpoch, 391);
  EXPECT_EQ(r.psgd_start_epoch, 82);
  EXPECT_EQ(r.psgd_start_step, 82 * 391);
}

TEST(PaperRecipeTest, TwoBitGridTrainsWithoutWeightDecay) {
  const Recipe r = RecipeFor(Budget::kPaper);
  // train.py: "if w_bits == 2: W_DECAY = 0"; the last value of a flag wins.
  const std::vector<std::string> w2 = PsgdStageFlags(r, {"--psg_target=grid", "--psg_bits=2"});
  EXPECT_EQ(w2.back(), "--weight_decay=0");
  for (const char* bits : {"--psg_bits=3", "--psg_bits=4", "--psg_bits=8"}) {
    EXPECT_THAT(PsgdStageFlags(r, {"--psg_target=grid", bits}), Not(Contains("--weight_decay=0")))
        << bits;
  }
  EXPECT_THAT(PsgdStageFlags(r, {"--psg_target=zero", "--psg_bits=2"}),
              Not(Contains("--weight_decay=0")));
  EXPECT_THAT(w2, Contains("--optimizer=psgd"));
}

TEST(PaperRecipeTest, LambdaIsTheReleasedOneAtEveryBitWidth) {
  // train.py: parser.add_argument('--lambda_s', default='150'); README: --w_bit 4 --lambda_s 150.
  EXPECT_EQ(compression::kReleasedPsgLambda, 150);
}

TEST(PaperRecipeTest, SearchHoldsOutTheReleasedValidationSplit) {
  // utils.py get_cifar100_dataloaders_disjoint: subset_idx = total_idx[:10000].
  EXPECT_EQ(RecipeFor(Budget::kPaper).holdout_images, 10000);
  EXPECT_EQ(RecipeFor(Budget::kShort).holdout_images, 10000);
}

TEST(PaperRecipeTest, L0GatesLearningRate) {
  // L0_regularization/train_lenet5.py: torch.optim.Adam(model.parameters(), lr=0.001).
  EXPECT_DOUBLE_EQ(RecipeFor(Budget::kPaper).l0_gate_lr, 1e-3);
  // Short: 10x, so that a gate can travel from log(9) past -log(11) at about
  // lr per step in the PSGD phase (6 x 391 steps, then 2 x 391 at a tenth).
  EXPECT_DOUBLE_EQ(RecipeFor(Budget::kShort).l0_gate_lr, 1e-2);
  const double steps_at_peak_lr = 6 * 391 + 0.1 * 2 * 391;
  const double distance_to_closed = std::log(9.0) + std::log(11.0);
  const double reference_lr = RecipeFor(Budget::kPaper).l0_gate_lr;  // too slow here
  EXPECT_LT(reference_lr * steps_at_peak_lr, distance_to_closed);
  EXPECT_GT(RecipeFor(Budget::kShort).l0_gate_lr * steps_at_peak_lr, 2 * distance_to_closed);
}

TEST(PaperRecipeTest, AdamLearningRate) {
  // train.py's --lr comment: "By default 1e-4 for Adam // 1e-2 for SGD when
  // starting from EPOCH 82"; the Adam branch then sets lr *= 1e-2 * lambda_s.
  EXPECT_DOUBLE_EQ(kReleasedPsgdAdamLr, 1e-4);
  EXPECT_DOUBLE_EQ(kReleasedPsgdLr, 1e-2);
  EXPECT_DOUBLE_EQ(PsgdAdamEffectiveLr(kReleasedPsgdAdamLr, 150), 1.5e-4);
}

// PSG-Adam's start: the SGD stage's schedule trained with Adam, never the
// released SGD checkpoint (its optimizer state has no Adam moments).
TEST(PaperRecipeTest, AdamPretrainingKeepsTheScheduleAndStartsFromScratch) {
  Recipe sgd = RecipeFor(Budget::kPaper);
  sgd.start_checkpoint = "ResNet82.safetensors";
  const Recipe adam = AdamRecipe(sgd);
  ASSERT_EQ(adam.sgd.size(), sgd.sgd.size() + 2);
  EXPECT_TRUE(std::equal(sgd.sgd.begin(), sgd.sgd.end(), adam.sgd.begin()));
  EXPECT_EQ(adam.sgd[adam.sgd.size() - 2], "--optimizer=adam");
  EXPECT_EQ(adam.sgd.back(), "--lr=0.001");  // after the SGD lr: absl keeps the last
  EXPECT_EQ(adam.psgd_start_step, sgd.psgd_start_step);
  EXPECT_EQ(adam.psgd, sgd.psgd);
  EXPECT_TRUE(adam.start_checkpoint.empty());
}

TEST(PaperRecipeTest, SettingsOfThePaperTables) {
  EXPECT_EQ(ReleasedCifar100Setting().model, "resnet32");
  EXPECT_EQ(ReleasedCifar100Setting().dataset, "cifar100");
  EXPECT_TRUE(ReleasedCifar100Setting().available);
  EXPECT_EQ(ImageNetSetting().model, "resnet18");
  EXPECT_EQ(ImageNetSetting().dataset, "imagenet");
  EXPECT_TRUE(ImageNetSetting().available);
}

// The standard ResNet-18 ImageNet recipe: 90 epochs of global batch 256 at
// lr 0.1 x batch / 256, x0.1 after 30, 60 and 80; PSGD from the first decay.
TEST(ImageNetRecipeTest, PaperIsTheStandardResNet18RecipeSplitOverTheRanks) {
  const Recipe r = *ImageNetRecipeFor(Budget::kPaper, 8, 256);
  EXPECT_THAT(r.sgd, ElementsAre("--epochs=90", "--lr=0.1", "--milestones=30,60,80",
                                 "--momentum=0.9", "--weight_decay=1e-4", "--schedule=multistep",
                                 "--batch_size=32"));
  EXPECT_THAT(r.psgd, ElementsAre("--epochs=60", "--lr=0.01", "--milestones=30,50",
                                  "--momentum=0.9", "--weight_decay=1e-4", "--schedule=multistep",
                                  "--batch_size=32"));
  // 1,281,167 images in global batches of 256, the last partial one kept.
  EXPECT_EQ(r.psgd_start_epoch, 30);
  EXPECT_EQ(r.psgd_start_step, 30 * 5005);
  // The learning rate follows the global batch.
  EXPECT_THAT(ImageNetRecipeFor(Budget::kPaper, 64, 2048)->sgd, Contains("--lr=0.8"));
  EXPECT_THAT(ImageNetRecipeFor(Budget::kPaper, 64, 2048)->sgd, Contains("--batch_size=32"));
}

TEST(ImageNetRecipeTest, RejectsBatchesThatDoNotSplitAndTheShortBudget) {
  EXPECT_FALSE(ImageNetRecipeFor(Budget::kPaper, 3, 256).ok());
  EXPECT_FALSE(ImageNetRecipeFor(Budget::kShort, 1, 256).ok());
  const Recipe smoke = *ImageNetRecipeFor(Budget::kSmoke, 2, 256);  // 16 images per step
  EXPECT_THAT(smoke.sgd, Contains("--batch_size=8"));
  EXPECT_THAT(smoke.sgd, Contains("--max_train_images=32"));
}

TEST(ShortRecipeTest, TwoBitRuleHoldsAtEveryBudget) {
  EXPECT_EQ(PsgdStageFlags(RecipeFor(Budget::kShort), {"--psg_bits=2"}).back(), "--weight_decay=0");
}

}  // namespace
}  // namespace psg::experiments
