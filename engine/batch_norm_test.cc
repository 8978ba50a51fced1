#include "engine/batch_norm.h"

#include <cmath>
#include <utility>
#include <vector>

#include "engine/testing/gradient_check.h"
#include "engine/testing/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::testing::HasSubstr;
using testing::RandomPlain;

struct BnCase {
  int64_t n, c, h, w;
};
const BnCase kCases[] = {{2, 3, 5, 5}, {1, 5, 4, 3}, {4, 17, 3, 3}, {2, 16, 4, 4}};

BatchNorm2d MakeBn(int64_t c, bool relu) {
  BatchNormOptions o;
  o.channels = c;
  o.fuse_relu = relu;
  return BatchNorm2d("bn", o);
}

void Randomize(BatchNorm2d& bn, uint32_t seed) {
  bn.gamma().value.CopyFromPlain(testing::RandomVector(bn.options().channels, seed, 0.5f, 1.5f));
  bn.beta().value.CopyFromPlain(testing::RandomVector(bn.options().channels, seed + 1, -0.5f, 0.5f));
}

TEST(BatchNormTest, TrainingForwardMatchesReferenceAndUpdatesRunningStats) {
  for (const BnCase& k : kCases) {
    for (bool relu : {false, true}) {
      for (auto layout : {dnnl::memory::format_tag::nchw, dnnl::memory::format_tag::nChw16c,
                          dnnl::memory::format_tag::nhwc}) {
        BatchNorm2d bn = MakeBn(k.c, relu);
        Randomize(bn, 3);
        const Tensor x_plain = RandomPlain({k.n, k.c, k.h, k.w}, 5, -2.0f, 3.0f);
        const Tensor x = testing::InLayout(x_plain, layout);
        const std::vector<float> y = bn.Forward(x, Mode::kTrain).ToPlain();
        const auto ref = reference::BatchNormTrain(x_plain.ToPlain(), {k.n, k.c, k.h, k.w},
                                                   bn.gamma().value.ToPlain(),
                                                   bn.beta().value.ToPlain(), 1e-5, relu);
        for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref.y[i], 1e-4f) << i;
        const int64_t count = k.n * k.h * k.w;
        const std::vector<float> rm = bn.running_mean().value.ToPlain();
        const std::vector<float> rv = bn.running_var().value.ToPlain();
        for (int64_t c = 0; c < k.c; ++c) {
          EXPECT_NEAR(rm[c], 0.1 * ref.mean[c], 1e-5);
          EXPECT_NEAR(rv[c], 0.9 + 0.1 * ref.variance[c] * count / (count - 1), 1e-5);
        }
      }
    }
  }
}

TEST(BatchNormTest, EvalUsesRunningStatistics) {
  for (bool relu : {false, true}) {
    BatchNorm2d bn = MakeBn(5, relu);
    Randomize(bn, 7);
    bn.running_mean().value.CopyFromPlain(testing::RandomVector(5, 8, -1.0f, 1.0f));
    bn.running_var().value.CopyFromPlain(testing::RandomVector(5, 9, 0.5f, 2.0f));
    const Tensor x = RandomPlain({3, 5, 4, 4}, 10, -2.0f, 2.0f);
    const std::vector<float> before = bn.running_mean().value.ToPlain();
    const std::vector<float> y =
        bn.Forward(testing::InLayout(x, dnnl::memory::format_tag::nChw16c), Mode::kEval).ToPlain();
    const std::vector<float> ref = reference::BatchNormInference(
        x.ToPlain(), {3, 5, 4, 4}, bn.gamma().value.ToPlain(), bn.beta().value.ToPlain(),
        bn.running_mean().value.ToPlain(), bn.running_var().value.ToPlain(), 1e-5, relu);
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-5f) << i;
    EXPECT_EQ(bn.running_mean().value.ToPlain(), before) << "eval must not touch running stats";
  }
}

TEST(BatchNormTest, BackwardMatchesFiniteDifferences) {
  for (const BnCase& k : kCases) {
    for (bool relu : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "c=" << k.c << " relu=" << relu);
      BatchNorm2d bn = MakeBn(k.c, relu);
      Randomize(bn, 11);
      testing::GradientCheckOptions o;
      o.epsilon = 2e-3f;
      o.absolute_tolerance = 1e-2;
      o.relative_tolerance = 2e-2;
      // Distinct inputs keep the fused ReLU's kink away from the probes.
      testing::ExpectGradientsMatch(bn, testing::DistinctPlain({k.n, k.c, k.h, k.w}, 12, 0.05f), o);
    }
  }
}

// Blocked and channels-last inputs give the plain layout's results both ways,
// and the output and input gradient keep the input's layout for their
// neighbours (16 channels in channels-last are computed through their
// nChw16c twin, the same bytes).
TEST(BatchNormTest, OtherLayoutsAgreeWithPlainAndKeepTheirLayout) {
  const std::pair<int64_t, dnnl::memory::format_tag> cases[] = {
      {17, dnnl::memory::format_tag::nChw16c}, {16, dnnl::memory::format_tag::nhwc}};
  for (const auto& [channels, layout] : cases) {
    SCOPED_TRACE(channels);
    BatchNorm2d plain = MakeBn(channels, true), other = MakeBn(channels, true);
    Randomize(plain, 1);
    Randomize(other, 1);
    const Tensor x = RandomPlain({2, channels, 3, 5}, 2);
    const Tensor dy = RandomPlain({2, channels, 3, 5}, 3);
    const Tensor x_other = testing::InLayout(x, layout);
    const std::vector<float> y = plain.Forward(x, Mode::kTrain).ToPlain();
    const Tensor& y_other = other.Forward(x_other, Mode::kTrain);
    EXPECT_EQ(y_other.desc(), x_other.desc());
    const std::vector<float> y2 = y_other.ToPlain();
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], y2[i], 1e-5f) << i;
    const std::vector<float> a = plain.Backward(dy).ToPlain();
    const Tensor& dx_other = other.Backward(testing::InLayout(dy, layout));
    EXPECT_EQ(dx_other.desc(), x_other.desc());
    const std::vector<float> b = dx_other.ToPlain();
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5f) << i;
    const std::vector<float> ga = plain.gamma().grad.ToPlain(), gb = other.gamma().grad.ToPlain();
    for (size_t i = 0; i < ga.size(); ++i) ASSERT_NEAR(ga[i], gb[i], 1e-4f) << i;
  }
}

// Replica A of two, with replica B's sums added by this fake: B's values are
// computed in the test from B's part of the batch.
class AddOtherReplica : public CrossReplicaSum {
 public:
  explicit AddOtherReplica(std::vector<std::vector<double>> other) : other_(std::move(other)) {}
  void SumInPlace(absl::Span<double> values) override {
    ASSERT_LT(calls_, other_.size());
    ASSERT_EQ(values.size(), other_[calls_].size());
    for (size_t i = 0; i < values.size(); ++i) values[i] += other_[calls_][i];
    ++calls_;
  }
  size_t calls() const { return calls_; }

 private:
  std::vector<std::vector<double>> other_;
  size_t calls_ = 0;
};

// Synchronized statistics: replica A's outputs, input gradient and running
// statistics are the first rows of plain BN on the whole batch [A; B], and its
// parameter gradients plus B's are the whole batch's.
TEST(BatchNormTest, SynchronizedStatisticsMatchTheWholeBatch) {
  const int64_t na = 3, nb = 2, c = 17, h = 3, w = 4, hw = h * w;
  for (bool relu : {false, true}) {
    for (auto layout : {dnnl::memory::format_tag::nchw, dnnl::memory::format_tag::nChw16c}) {
      SCOPED_TRACE(::testing::Message() << "relu=" << relu << " layout=" << int(layout));
      const std::vector<float> x = RandomPlain({na + nb, c, h, w}, 21, -1.0f, 3.0f).ToPlain();
      const std::vector<float> dy = RandomPlain({na + nb, c, h, w}, 22, -1.0f, 1.0f).ToPlain();
      const auto rows = [&](const std::vector<float>& v, int64_t from, int64_t n) {
        Tensor t = Tensor::Plain({n, c, h, w});
        t.CopyFromPlain(absl::MakeConstSpan(v).subspan(from * c * hw, n * c * hw));
        return t;
      };
      BatchNorm2d whole = MakeBn(c, relu);
      Randomize(whole, 23);
      const std::vector<float> y_whole =
          whole.Forward(rows(x, 0, na + nb), Mode::kTrain).ToPlain();
      const std::vector<float> dx_whole = whole.Backward(rows(dy, 0, na + nb)).ToPlain();

      // B's sums: n mean and n E[x^2] per channel, n; then, with the whole
      // batch's statistics, sum dy' and sum dy' xhat (dy' after the ReLU mask).
      std::vector<double> forward(2 * c + 1, 0.0), backward(2 * c, 0.0), mean(c), var(c);
      for (int64_t ch = 0; ch < c; ++ch) {
        double s1 = 0, s2 = 0;
        for (int64_t n = 0; n < na + nb; ++n) {
          for (int64_t i = 0; i < hw; ++i) {
            const double v = x[(n * c + ch) * hw + i];
            s1 += v;
            s2 += v * v;
            if (n >= na) {
              forward[ch] += v;
              forward[c + ch] += v * v;
            }
          }
        }
        mean[ch] = s1 / ((na + nb) * hw);
        var[ch] = s2 / ((na + nb) * hw) - mean[ch] * mean[ch];
      }
      forward[2 * c] = nb * hw;
      for (int64_t n = na; n < na + nb; ++n) {
        for (int64_t ch = 0; ch < c; ++ch) {
          for (int64_t i = 0; i < hw; ++i) {
            const int64_t k = (n * c + ch) * hw + i;
            const double g = relu && y_whole[k] <= 0 ? 0.0 : dy[k];
            backward[ch] += g;
            backward[c + ch] += g * (x[k] - mean[ch]) / std::sqrt(var[ch] + 1e-5);
          }
        }
      }
      AddOtherReplica other({forward, backward});
      BatchNormOptions options;
      options.channels = c;
      options.fuse_relu = relu;
      options.cross_replica = &other;
      BatchNorm2d a("bn", options);
      Randomize(a, 23);
      const std::vector<float> y_a =
          a.Forward(testing::InLayout(rows(x, 0, na), layout), Mode::kTrain).ToPlain();
      const std::vector<float> dx_a = a.Backward(rows(dy, 0, na)).ToPlain();
      EXPECT_EQ(other.calls(), 2u);
      for (size_t i = 0; i < y_a.size(); ++i) ASSERT_NEAR(y_a[i], y_whole[i], 1e-4f) << i;
      for (size_t i = 0; i < dx_a.size(); ++i) ASSERT_NEAR(dx_a[i], dx_whole[i], 1e-4f) << i;
      const std::vector<float> ga = a.gamma().grad.ToPlain(), gw = whole.gamma().grad.ToPlain();
      const std::vector<float> ba = a.beta().grad.ToPlain(), bw = whole.beta().grad.ToPlain();
      for (int64_t ch = 0; ch < c; ++ch) {
        EXPECT_NEAR(ga[ch] + backward[c + ch], gw[ch], 1e-3) << ch;
        EXPECT_NEAR(ba[ch] + backward[ch], bw[ch], 1e-3) << ch;
      }
      EXPECT_THAT(a.running_mean().value.ToPlain(),
                  ::testing::Pointwise(::testing::FloatNear(1e-5f), whole.running_mean().value.ToPlain()));
      EXPECT_THAT(a.running_var().value.ToPlain(),
                  ::testing::Pointwise(::testing::FloatNear(1e-5f), whole.running_var().value.ToPlain()));
    }
  }
}

TEST(BatchNormTest, RejectsBadArguments) {
  EXPECT_THAT([] { MakeBn(0, false); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("channels must be positive")));
  BatchNorm2d bn = MakeBn(4, false);
  EXPECT_THAT([&] { bn.Forward(RandomPlain({2, 3, 4, 4}, 1), Mode::kTrain); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  HasSubstr("expected NCHW input with 4 channels, got [2x3x4x4]")));
  bn.Forward(RandomPlain({2, 4, 4, 4}, 1), Mode::kEval);
  EXPECT_THAT([&] { bn.Backward(RandomPlain({2, 4, 4, 4}, 1)); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("Mode::kTrain")));
}

}  // namespace
}  // namespace psg::engine
