#include "cli/optimizer_flags.h"

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_DECLARE_FLAG(psg::cli::OptimizerKind, optimizer);

namespace psg::cli {
namespace {

using ::testing::HasSubstr;

TEST(OptimizerFlagsTest, AdamTakesTorchsFirstStepAndNamesItsState) {
  absl::SetFlag(&FLAGS_optimizer, OptimizerKind::kAdam);
  engine::Parameter w = engine::Parameter::Trainable("w", engine::ParamKind::kConvWeight, {3});
  w.value.CopyFromPlain({1.0f, -1.0f, 0.5f});
  w.grad.CopyFromPlain({0.2f, -3.0f, 0.0f});
  absl::StatusOr<OptimizerFromFlags> o = MakeOptimizer({&w}, 0.9f, false, /*weight_decay=*/0.0f);
  absl::SetFlag(&FLAGS_optimizer, OptimizerKind::kSgd);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->json["optimizer"], "adam");
  o->optimizer->Step(0.01f);
  // Adam's bias-corrected first step: lr * g / (|g| + eps).
  const std::vector<float> got = w.value.ToPlain();
  EXPECT_NEAR(got[0], 1.0f - 0.01f, 1e-6f);
  EXPECT_NEAR(got[1], -1.0f + 0.01f, 1e-6f);
  EXPECT_EQ(got[2], 0.5f);
  EXPECT_EQ(o->optimizer->State()[1].first, "w/adam_v");
}

TEST(OptimizerFlagsTest, AnUnknownOptimizerNamesTheChoices) {
  std::string error;
  EXPECT_FALSE(absl::FindCommandLineFlag("optimizer")->ParseFrom("rmsprop", &error));
  EXPECT_EQ(error,
            "Illegal value 'rmsprop' specified for flag 'optimizer'; expected one of: sgd, adam, psgd");
  EXPECT_EQ(absl::GetFlag(FLAGS_optimizer), OptimizerKind::kSgd);
}

}  // namespace
}  // namespace psg::cli
