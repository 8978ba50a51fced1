#include "models/basic_block.h"

#include <algorithm>
#include <vector>

#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"
#include "gtest/gtest.h"

namespace psg::models {
namespace {

using engine::Mode;
using engine::Parameter;
namespace reference = engine::reference;

// The block recomposed from the scalar references, parameters by name.
std::vector<float> ReferenceBlock(const std::vector<float>& x, reference::Shape4 s,
                                  const BasicBlockOptions& o, engine::ParameterList& params) {
  auto get = [&](const std::string& suffix) {
    for (Parameter* p : params) {
      if (p->name == "block." + suffix) return p->value.ToPlain();
    }
    ADD_FAILURE() << "no parameter " << suffix;
    return std::vector<float>();
  };
  const int64_t oh = (s.h - 1) / o.stride + 1, ow = (s.w - 1) / o.stride + 1;
  const reference::Shape4 out{s.n, o.out_channels, oh, ow};
  auto h = reference::Conv2d(x, s, get("conv1.weight"), {}, {o.out_channels, 3, o.stride, 1});
  h = reference::BatchNormTrain(h, out, get("bn1.weight"), get("bn1.bias"), 1e-5, true).y;
  h = reference::Conv2d(h, out, get("conv2.weight"), {}, {o.out_channels, 3, 1, 1});
  h = reference::BatchNormTrain(h, out, get("bn2.weight"), get("bn2.bias"), 1e-5, false).y;
  std::vector<float> shortcut = x;
  if (o.stride != 1 || o.in_channels != o.out_channels) {
    shortcut = reference::Conv2d(x, s, get("shortcut.0.weight"), {}, {o.out_channels, 1, o.stride, 0});
    shortcut = reference::BatchNormTrain(shortcut, out, get("shortcut.1.weight"),
                                         get("shortcut.1.bias"), 1e-5, false).y;
  }
  for (size_t i = 0; i < h.size(); ++i) h[i] = std::max(h[i] + shortcut[i], 0.0f);
  return h;
}

TEST(BasicBlockTest, ForwardMatchesComposedReference) {
  for (const BasicBlockOptions& o :
       {BasicBlockOptions{5, 5, 1}, BasicBlockOptions{3, 8, 2}, BasicBlockOptions{16, 32, 2}}) {
    BasicBlock block("block", o);
    engine::testing::RandomizeParameters(block, 1);
    const engine::Tensor x = engine::testing::RandomPlain({2, o.in_channels, 6, 6}, 2);
    engine::ParameterList params;
    block.CollectParameters(&params);
    const std::vector<float> want = ReferenceBlock(x.ToPlain(), {2, o.in_channels, 6, 6}, o, params);
    const std::vector<float> got = block.Forward(x, Mode::kTrain).ToPlain();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-4f) << i;
  }
}

TEST(BasicBlockTest, BackwardMatchesFiniteDifferences) {
  engine::testing::GradientCheckOptions check;
  check.epsilon = 1e-3f;
  check.absolute_tolerance = 2e-2;
  check.relative_tolerance = 3e-2;
  for (const BasicBlockOptions& o :
       {BasicBlockOptions{3, 3, 1}, BasicBlockOptions{3, 6, 2, ShortcutKind::kProjection},
        BasicBlockOptions{4, 8, 2, ShortcutKind::kZeroPad}}) {
    SCOPED_TRACE(::testing::Message() << o.in_channels << "->" << o.out_channels);
    BasicBlock block("block", o);
    engine::testing::RandomizeParameters(block, 3);
    engine::testing::ExpectGradientsMatch(
        block, engine::testing::RandomPlain({2, o.in_channels, 4, 4}, 4), check);
  }
}

}  // namespace
}  // namespace psg::models
