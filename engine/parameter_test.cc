#include "engine/parameter.h"

#include <vector>

#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

TEST(CopyValuesTest, CopiesValuesEntryByEntryAndChecksTheLists) {
  Parameter a = Parameter::Trainable("conv.weight", ParamKind::kConvWeight, {2, 3});
  Parameter b = Parameter::State("bn.running_var", ParamKind::kBnRunningVar, {2}, 1.0f);
  a.value.CopyFromPlain({1, 2, 3, 4, 5, 6});
  b.value.CopyFromPlain({7, 8});
  Parameter c = Parameter::Trainable("conv.weight", ParamKind::kConvWeight, {2, 3});
  Parameter d = Parameter::State("bn.running_var", ParamKind::kBnRunningVar, {2}, 1.0f);
  CopyValues({&a, &b}, {&c, &d});
  EXPECT_EQ(c.value.ToPlain(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(d.value.ToPlain(), (std::vector<float>{7, 8}));
  EXPECT_EQ(c.grad.ToPlain(), std::vector<float>(6, 0.0f)) << "gradients are not copied";

  EXPECT_THAT([&] { CopyValues({&a}, {&c, &d}); }, ThrowsInvalidArgument("1 parameters into 2"));
  EXPECT_THAT([&] { CopyValues({&a, &b}, {&d, &c}); },
              ThrowsInvalidArgument("parameter 0 is 'conv.weight' [2x3] in the source, "
                                    "'bn.running_var' [2] in the destination"));
}

}  // namespace
}  // namespace psg::engine
