#include "engine/optimizer_group.h"

#include <memory>
#include <vector>

#include "engine/adam.h"
#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::psg::ThrowsInvalidArgument;

Parameter MakeParam(const std::string& name, float value, float grad) {
  Parameter p = Parameter::Trainable(name, ParamKind::kConvWeight, {1});
  p.value.Fill(value);
  p.grad.Fill(grad);
  return p;
}

TEST(OptimizerGroupTest, StepsEachMemberAtItsShareOfTheLearningRate) {
  Parameter w = MakeParam("w", 1.0f, 0.5f), gate = MakeParam("gate", 2.0f, 0.5f);
  Parameter w_alone = MakeParam("w", 1.0f, 0.5f), gate_alone = MakeParam("gate", 2.0f, 0.5f);
  OptimizerGroup group;
  group.Add(std::make_unique<Sgd>(ParameterList{&w}, SgdOptions{.momentum = 0.9f}), 1.0f);
  group.Add(std::make_unique<Adam>(ParameterList{&gate}, AdamOptions{}), 0.01f);
  Sgd sgd({&w_alone}, {.momentum = 0.9f});
  Adam adam({&gate_alone}, {});
  for (int step = 0; step < 3; ++step) {
    group.Step(0.1f);
    sgd.Step(0.1f);
    adam.Step(0.1f * 0.01f);
  }
  EXPECT_EQ(w.value.ToPlain(), w_alone.value.ToPlain());
  EXPECT_EQ(gate.value.ToPlain(), gate_alone.value.ToPlain());
  EXPECT_EQ(group.steps(), 3);

  std::vector<std::string> names;
  for (const auto& [name, tensor] : group.State()) names.push_back(name);
  EXPECT_THAT(names, ::testing::ElementsAre("w/momentum", "gate/adam_m", "gate/adam_v"));
  group.set_steps(40);
  EXPECT_EQ(group.member(1).steps(), 40);
}

TEST(OptimizerGroupTest, ALaterMemberStartsAtTheGroupsStepAndFactorsMustBePositive) {
  Parameter w = MakeParam("w", 1.0f, 0.5f), gate = MakeParam("gate", 2.0f, 0.5f);
  OptimizerGroup group;
  group.Add(std::make_unique<Sgd>(ParameterList{&w}, SgdOptions{}), 1.0f);
  group.set_steps(7);
  group.Add(std::make_unique<Adam>(ParameterList{&gate}, AdamOptions{}), 1.0f);
  EXPECT_EQ(group.member(1).steps(), 7);
  EXPECT_THAT([&] { group.Add(std::make_unique<Sgd>(ParameterList{}, SgdOptions{}), 0.0f); },
              ThrowsInvalidArgument("lr_factor must be > 0"));
}

}  // namespace
}  // namespace psg::engine
