#include "experiments/zero_lambda_search.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"

#include "gtest/gtest.h"

namespace psg::experiments {
namespace {

TEST(ChooseLambdasTest, BestHeldOutAccuracyPerSparsityTiesToTheSmallerLambda) {
  const AccuracyByLambda accuracy = {
      {50, {{0.0, 0.70}, {0.5, 0.68}, {0.9, 0.10}}},
      {150, {{0.0, 0.69}, {0.5, 0.68}, {0.9, 0.40}}},
      {500, {{0.0, 0.60}, {0.5, 0.62}, {0.9, 0.55}}},
  };
  const std::map<double, double> expected = {{0.0, 50}, {0.5, 50}, {0.9, 500}};
  EXPECT_EQ(ChooseLambdas(accuracy), expected);
}

TEST(ChooseLambdasTest, ASingleCandidateIsChosenEverywhere) {
  const std::map<double, double> expected = {{0.0, 150}, {0.8, 150}};
  EXPECT_EQ(ChooseLambdas({{150, {{0.0, 0.5}, {0.8, 0.2}}}}), expected);
}

TEST(SparsityListTest, ReadsBackAsTheSameNumbers) {
  const std::vector<double> sparsities = {0.5, 0.7089, 0.123456789012345, 1.0 / 3};
  const std::string list = SparsityList(sparsities);
  EXPECT_EQ(list.substr(0, 11), "0.5,0.7089,");
  std::vector<double> read;
  for (absl::string_view item : absl::StrSplit(list, ',')) read.push_back(std::stod(std::string(item)));
  EXPECT_EQ(read, sparsities);
}

TEST(SearchMarkdownTest, MarksTheChosenCandidateInEachRow) {
  ZeroLambdaSearch search;
  search.holdout_images = 10000;
  search.accuracy = {{50, {{0.0, 0.7}, {0.9, 0.1}}}, {500, {{0.0, 0.6}, {0.9, 0.55}}}};
  search.chosen = ChooseLambdas(search.accuracy);
  const std::string md = SearchMarkdown(search);
  EXPECT_NE(md.find("10000 training images held out"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0 (dense) | **70.00** | 60.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.9 | 10.00 | **55.00** |"), std::string::npos) << md;
  EXPECT_EQ(SearchJson(search)["chosen"]["0.9"], 500);
}

}  // namespace
}  // namespace psg::experiments
