// MpiDataParallel on 2 ranks (run by mpi_data_parallel_test.sh under
// mpirun -np 2): gradient sums weighted by each rank's share, state averaging,
// buckets started during backward, broadcasts, and the replica check.
#include "dist/mpi_data_parallel.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/layer.h"
#include "engine/sequential.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::dist {
namespace {

using ::testing::HasSubstr;

MpiDataParallel* dp = nullptr;  // set by main

// A layer whose backward writes the gradient (rank + 1) * (i + 1) and whose
// optional state tensor holds rank + 1.
class GradientWriter : public engine::Layer {
 public:
  GradientWriter(std::string name, int64_t size, bool with_state)
      : Layer(name),
        weight_(engine::Parameter::Trainable(name + ".weight", engine::ParamKind::kFcWeight, {size})) {
    if (with_state) {
      state_ = std::make_unique<engine::Parameter>(engine::Parameter::State(
          name + ".running_mean", engine::ParamKind::kBnRunningMean, {size}, dp->rank() + 1.0f));
    }
  }
  const engine::Tensor& Forward(const engine::Tensor& x, engine::Mode) override { return x; }
  const engine::Tensor& Backward(const engine::Tensor& dy) override {
    float* g = weight_.grad.raw();
    for (int64_t i = 0; i < weight_.value.dims()[0]; ++i) g[i] = (dp->rank() + 1.0f) * (i + 1);
    ++backward_calls;
    return dy;
  }
  void CollectParameters(engine::ParameterList* out) override {
    out->push_back(&weight_);
    if (state_) out->push_back(state_.get());
  }
  int backward_calls = 0;

 private:
  engine::Parameter weight_;
  std::unique_ptr<engine::Parameter> state_;
};

TEST(MpiDataParallelTest, SumsSharesOfTheGradientsInBucketsStartedDuringBackward) {
  ASSERT_EQ(dp->size(), 2);
  engine::Sequential model("model");
  model.Emplace<GradientWriter>("a", 1000, false);
  model.Emplace<GradientWriter>("b", 7, true);
  model.Emplace<GradientWriter>("c", 3000, false);
  engine::ParameterList params;
  model.CollectParameters(&params);
  dp->Attach(params);
  const engine::Tensor x = engine::Tensor::Plain({1});
  // Shares 1/3 and 2/3 (e.g. 2 and 4 images of a global batch of 6).
  const double share = (dp->rank() + 1) / 3.0;
  for (int step = 0; step < 2; ++step) {
    dp->BeginBackward(share);
    model.Backward(x);
    dp->EndBackward();
  }
  // sum over r of share_r (r + 1) (i + 1) = (1/3 + 4/3) (i + 1).
  for (engine::Parameter* p : params) {
    const float* v = p->trainable() ? p->grad.raw() : p->value.raw();
    for (int64_t i = 0; i < p->value.dims()[0]; ++i) {
      // State: averaged, then averaged again (already equal) on step 2.
      const double expected = p->trainable() ? 5.0 / 3 * (i + 1) : 5.0 / 3;
      ASSERT_NEAR(v[i], expected, 1e-6 * expected) << p->name << "[" << i << "]";
    }
  }
  const ReductionStats stats = dp->reduction_stats();
  EXPECT_EQ(stats.steps, 2);
  EXPECT_EQ(stats.bytes_per_step, (1000 + 7 + 3000 + 7) * 4);
  // 64-byte buckets: one per parameter here, every one queued before End().
  EXPECT_EQ(stats.buckets, 4);
  EXPECT_EQ(stats.buckets_started_in_backward, 2 * stats.buckets);
}

TEST(MpiDataParallelTest, BroadcastsRankZerosValues) {
  std::vector<float> values = {dp->rank() + 0.5f, -1.0f * dp->rank()};
  dp->BroadcastFromRankZero(absl::MakeSpan(values), "test values");
  EXPECT_THAT(values, ::testing::ElementsAre(0.5f, 0.0f));
  std::vector<int64_t> run = {dp->rank() * 7 + 3};
  dp->BroadcastFromRankZero(absl::MakeSpan(run), "test position");
  EXPECT_EQ(run[0], 3);
  std::vector<double> sums = {1.0, dp->rank() * 1.0};
  dp->SumAcrossRanks(absl::MakeSpan(sums));
  EXPECT_THAT(sums, ::testing::ElementsAre(2.0, 1.0));
}

TEST(MpiDataParallelTest, ReplicaCheckFindsOneFlippedBit) {
  engine::Tensor a = engine::Tensor::Plain({5}), b = engine::Tensor::Plain({1001});
  a.Fill(0.25f);
  b.Fill(-3.0f);
  const std::vector<std::pair<std::string, engine::Tensor>> tensors = {{"a", a}, {"b", b}};
  EXPECT_TRUE(dp->CheckReplicasAgree(tensors, "at the start").ok());
  if (dp->rank() == 1) {
    uint32_t bits;
    std::memcpy(&bits, b.raw() + 1000, 4);
    bits ^= 1;  // the last bit of the last value
    std::memcpy(b.raw() + 1000, &bits, 4);
  }
  const absl::Status status = dp->CheckReplicasAgree(tensors, "after the flip");
  EXPECT_FALSE(status.ok());  // on both ranks
  EXPECT_THAT(status.message(), HasSubstr("replicas disagree after the flip: 1 tensor(s)"));
  EXPECT_THAT(status.message(), HasSubstr("b on rank 1"));
  EXPECT_NE(BitHash(a.flat()), BitHash(b.flat()));
}

}  // namespace
}  // namespace psg::dist

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  absl::StatusOr<std::unique_ptr<psg::dist::MpiDataParallel>> dp =
      psg::dist::MpiDataParallel::Init({.timeout_seconds = 60, .bucket_bytes = 64});
  if (!dp.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(dp.status().message()).c_str());
    return 1;
  }
  psg::dist::dp = dp->get();
  return RUN_ALL_TESTS();
}
