// Pins each released default to the value in the released code (PSG-pytorch),
// and checks that the float forms the option structs use are the float
// literals they had before the names existed.
#include "compression/released_defaults.h"

#include "gtest/gtest.h"

namespace psg::compression {
namespace {

TEST(ReleasedDefaultsTest, AreTheReleasedValues) {
  EXPECT_EQ(kReleasedWeightBits, 4);             // train.py --w_bit
  EXPECT_EQ(kReleasedPsgLambda, 150);            // train.py --lambda_s
  EXPECT_EQ(kReleasedNoWeightDecayBits, 2);      // train.py: if w_bits == 2: W_DECAY = 0
  EXPECT_EQ(kReleasedPsgAdamLrFactor, 1e-2);     // train.py: base_lr *= 1e-2 * lambda_s
  EXPECT_EQ(kReleasedRangeMomentum, 0.1);        // quant_module.py post_training_weight
  EXPECT_EQ(kReleasedBnRangeN, 6);               // eval.py --clipping_range
  EXPECT_EQ(kReleasedFirstLastBits, 8);          // our_network.py: fl_bits = 8 if w_bits < 4
  EXPECT_EQ(kReleasedFirstLastWidenBelowBits, 4);
}

TEST(ReleasedDefaultsTest, FloatFormsAreTheFloatLiterals) {
  EXPECT_EQ(static_cast<float>(kReleasedPsgLambda), 150.0f);
  EXPECT_EQ(static_cast<float>(kReleasedPsgAdamLrFactor), 1e-2f);
  EXPECT_EQ(static_cast<float>(kReleasedRangeMomentum), 0.1f);
  EXPECT_EQ(static_cast<float>(kReleasedBnRangeN), 6.0f);
}

}  // namespace
}  // namespace psg::compression
