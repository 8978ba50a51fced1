#include "flags/list_flags.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::flags {
namespace {

using ::testing::ElementsAre;

TEST(ListFlagsTest, NumbersAreCheckedOneByOne) {
  EXPECT_THAT(*ParseNumbers("milestones", {"82", "123.5"}, GreaterThan(0), Order::kIncreasing),
              ElementsAre(82, 123.5));
  // Issue 18: --milestones=-1,100 was accepted.
  EXPECT_EQ(ParseNumbers("milestones", {"-1", "100"}, GreaterThan(0)).status().message(),
            "--milestones: '-1' is out of range: allowed (0, inf)");
  EXPECT_EQ(ParseNumbers("milestones", {"100", "50"}, GreaterThan(0), Order::kIncreasing).status().message(),
            "--milestones: '50' does not increase on the element before it (100)");
  EXPECT_EQ(ParseNumbers("sparsity", {"0.5", ""}, FromUpTo(0, 1)).status().message(),
            "--sparsity: '' is not a number");
  EXPECT_EQ(ParseNumbers("sparsity", {" 0.5"}, FromUpTo(0, 1)).status().message(),
            "--sparsity: ' 0.5' is not a number");
  EXPECT_EQ(ParseNumbers("sparsity", {"nan"}, FromUpTo(0, 1)).status().message(),
            "--sparsity: 'nan' is out of range: allowed [0, 1)");
  EXPECT_TRUE(ParseNumbers("milestones", {}, GreaterThan(0))->empty());
}

TEST(ListFlagsTest, IntegersAreWholeNumbers) {
  EXPECT_THAT(*ParseIntegers("bits", {"8", "4", "2"}, Between(2, 8)), ElementsAre(8, 4, 2));
  EXPECT_EQ(ParseIntegers("bits", {"4.5"}, Between(2, 8)).status().message(),
            "--bits: '4.5' is not a whole number");
  EXPECT_EQ(ParseIntegers("bits", {"9"}, Between(2, 8)).status().message(),
            "--bits: '9' is out of range: allowed [2, 8]");
  EXPECT_EQ(ParseIntegers("bits", {"99999999999"}, Between(2, 8)).status().message(),
            "--bits: '99999999999' is not a whole number");
}

TEST(ListFlagsTest, ChoicesAndNamedValues) {
  EXPECT_THAT(*ParseChoices("scope", {"layer", "global"}, {"layer", "global"}), ElementsAre("layer", "global"));
  EXPECT_EQ(ParseChoices("scope", {"layer", "layer"}, {"layer", "global"}).status().message(),
            "--scope: 'layer' is given twice");
  EXPECT_EQ(ParseChoices("scope", {"all"}, {"layer", "global"}).status().message(),
            "--scope: 'all' is not one of layer, global");
  const auto named = ParseNamedValues("checkpoints", {"SGD=a=b", "PSGD=c"});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ((*named)[0].name, "SGD");
  EXPECT_EQ((*named)[0].value, "a=b");
  EXPECT_EQ(ParseNamedValues("checkpoints", {"=x"}).status().message(), "--checkpoints: '=x' is not NAME=VALUE");
  EXPECT_EQ(ParseNamedValues("checkpoints", {"A=x", "A=y"}).status().message(),
            "--checkpoints: 'A=y' repeats the name 'A'");
  EXPECT_EQ(ParseNamedValues("checkpoints", {"bad\x01"}).status().message(),
            "--checkpoints: 'bad\\x01' is not NAME=VALUE");
}

TEST(ListFlagsTest, SplitsLikeAbsl) {
  EXPECT_THAT(SplitList("8,4,,2"), ElementsAre("8", "4", "", "2"));
  EXPECT_TRUE(SplitList("").empty());
}

}  // namespace
}  // namespace psg::flags
