#include "psg/psgd.h"

#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "psg/testing/reference_psgd.h"
#include "engine/testing/throws.h"

namespace psg::psgd {
namespace {

using engine::Parameter;
using engine::ParamKind;
using ::testing::ElementsAre;

std::vector<float> Values(absl::Span<const float> x) { return {x.begin(), x.end()}; }

// Parameters with stable addresses, random values and gradients.
class Model {
 public:
  explicit Model(uint32_t seed) : rng_(seed) {}

  Parameter& Add(const std::string& name, ParamKind kind, const engine::Dims& dims) {
    Parameter& p = storage_.emplace_back(Parameter::Trainable(name, kind, dims));
    Randomize(p.value.flat());
    p.value.flat()[0] = 0.0f;  // an exact grid point in every tensor
    params_.push_back(&p);
    return p;
  }
  void RandomGradients() {
    for (Parameter* p : params_) Randomize(p->grad.flat());
  }
  const engine::ParameterList& params() const { return params_; }

 private:
  void Randomize(absl::Span<float> x) {
    std::normal_distribution<float> normal(0.0f, 0.1f);
    for (float& v : x) v = normal(rng_);
  }

  std::mt19937 rng_;
  std::deque<Parameter> storage_;
  engine::ParameterList params_;
};

// Covered and uncovered tensors whose rows have vector tails (1, 7, 17, 1000, 4099).
void AddTensorsWithTails(Model& model) {
  model.Add("conv_first.weight", ParamKind::kConvWeight, {3, 7});
  model.Add("conv_first.bias", ParamKind::kConvBias, {3});
  model.Add("bn.weight", ParamKind::kBnGamma, {3});
  model.Add("conv_a.weight", ParamKind::kConvWeight, {3, 17});
  model.Add("conv_b.weight", ParamKind::kConvWeight, {3, 1000});
  model.Add("conv_c.weight", ParamKind::kConvWeight, {1, 4099});
  model.Add("conv_d.weight", ParamKind::kConvWeight, {2, 4099});
  model.Add("conv_e.weight", ParamKind::kConvWeight, {1, 1});
  model.Add("fc.weight", ParamKind::kFcWeight, {5, 7});
  model.Add("fc.bias", ParamKind::kFcBias, {5});
}

std::map<std::string, std::vector<float>> StateByName(Psgd& psgd) {
  std::map<std::string, std::vector<float>> state;
  for (const auto& [name, tensor] : psgd.State()) state[name] = Values(tensor.flat());
  return state;
}

void ExpectMatchesReference(const PsgdOptions& options, const std::string& label) {
  SCOPED_TRACE(label);
  Model model(17);
  AddTensorsWithTails(model);
  const engine::ParameterList& params = model.params();
  ReferencePsgd reference(params, options);
  Psgd psgd(params, options);
  const bool adam = options.method == PsgdMethod::kAdam;
  for (int step = 0; step < 4; ++step) {
    model.RandomGradients();
    reference.Step(0.01f, GradientsOf(params));  // before Psgd may rewrite the gradients
    psgd.Step(0.01f);
    std::map<std::string, std::vector<float>> state = StateByName(psgd);
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string& name = params[i]->name;
      ASSERT_EQ(Values(params[i]->value.flat()), reference.weights(i))
          << name << " after step " << step;
      ASSERT_EQ(state[name + (adam ? "/adam_m" : "/momentum")], reference.first_moment(i)) << name;
      if (adam) {
        ASSERT_EQ(state[name + "/adam_v"], reference.second_moment(i)) << name;
      }
      if (state.count(name + "/grid_range")) {
        ASSERT_EQ(state[name + "/grid_range"], reference.range(i)) << name;
      }
    }
  }
}

TEST(PsgdTest, FusedKernelsMatchScalarReference) {
  for (PsgdMethod method : {PsgdMethod::kSgd, PsgdMethod::kAdam}) {
    for (bool variant : {false, true}) {  // SGD: Nesterov; both: scaled weight decay
      for (GridRange range : {GridRange::kRestricted, GridRange::kFull, GridRange::kAsymmetric}) {
        for (bool per_channel : {false, true}) {
          for (RangeEstimate estimate : {RangeEstimate::kMovingAverage, RangeEstimate::kExact}) {
            for (int bits : {2, 4}) {
              PsgdOptions options;
              options.scaling = {.lambda = 150.0f, .eps = variant ? 1e-3f : 0.0f};
              options.grid = {.range = range, .per_channel = per_channel, .estimate = estimate};
              options.policy.bits = bits;
              options.method = method;
              options.nesterov = method == PsgdMethod::kSgd && variant;
              options.weight_decay = 1e-2f;
              options.scale_weight_decay = variant;
              ExpectMatchesReference(
                  options, absl::StrCat("method ", method == PsgdMethod::kAdam ? "adam" : "sgd",
                                        " variant ", variant, " range ", static_cast<int>(range),
                                        " per_channel ", per_channel, " estimate ",
                                        static_cast<int>(estimate), " bits ", bits));
            }
          }
        }
      }
    }
  }
}

TEST(PsgdTest, PruningTargetMatchesScalarReference) {
  for (PsgdMethod method : {PsgdMethod::kSgd, PsgdMethod::kAdam}) {
    PsgdOptions options;
    options.target = TargetKind::kZero;
    options.scaling = {.lambda = 5.0f, .eps = 1e-4f};
    options.method = method;
    options.weight_decay = 5e-4f;
    ExpectMatchesReference(options, method == PsgdMethod::kAdam ? "adam" : "sgd");
  }
}

TEST(PsgdTest, WeightsOnTheGridGetZeroScaledGradient) {
  // 4-bit restricted grid with max-abs 7 * 2^-4: the step is exactly 2^-4.
  for (TargetKind target : {TargetKind::kGrid, TargetKind::kZero}) {
    Model model(3);
    Parameter& w = model.Add("conv.weight", ParamKind::kConvWeight, {15});
    for (int k = -7; k <= 7; ++k) {
      w.value.flat()[k + 7] = target == TargetKind::kGrid ? k / 16.0f : 0.0f;
    }
    const std::vector<float> on_grid = Values(w.value.flat());
    Psgd psgd(model.params(), {.scaling = {.lambda = 150.0f}, .target = target});
    for (int step = 0; step < 3; ++step) {
      model.RandomGradients();
      psgd.Step(0.1f);
      EXPECT_EQ(Values(w.value.flat()), on_grid) << "step " << step;
      EXPECT_THAT(psgd.State()[0].second.flat(), ::testing::Each(0.0f));
    }
  }
}

TEST(PsgdTest, UncoveredParametersGetEngineSgdBitForBit) {
  const engine::SgdOptions sgd_options{.momentum = 0.9f, .weight_decay = 1e-3f, .nesterov = true};
  Model a(5), b(5);
  for (Model* model : {&a, &b}) {
    model->Add("bn.weight", ParamKind::kBnGamma, {37});
    model->Add("bn.bias", ParamKind::kBnBeta, {37});
    model->Add("hidden.weight", ParamKind::kFcWeight, {9, 13});
    model->Add("fc.weight", ParamKind::kFcWeight, {3, 9});
  }
  PsgdOptions options{
      .scaling = {.lambda = 150.0f}, .momentum = 0.9f, .nesterov = true, .weight_decay = 1e-3f};
  options.policy.cover_first_last = false;
  Psgd psgd(a.params(), options);
  engine::Sgd sgd(b.params(), sgd_options);
  for (int step = 0; step < 4; ++step) {
    a.RandomGradients();
    b.RandomGradients();
    psgd.Step(0.05f);
    sgd.Step(0.05f);
    for (size_t i = 0; i < a.params().size(); ++i) {
      ASSERT_FALSE(psgd.coverage()[i].covered);
      ASSERT_EQ(Values(a.params()[i]->value.flat()), Values(b.params()[i]->value.flat()))
          << a.params()[i]->name << " step " << step;
    }
  }
}

TEST(PsgdTest, RestoredStateContinuesTraining) {
  for (PsgdMethod method : {PsgdMethod::kSgd, PsgdMethod::kAdam}) {
    const PsgdOptions options{
        .scaling = {.lambda = 10.0f}, .method = method, .weight_decay = 1e-4f};
    Model original(9), restored(9);
    AddTensorsWithTails(original);
    AddTensorsWithTails(restored);
    Psgd first(original.params(), options);
    for (int step = 0; step < 3; ++step) {
      original.RandomGradients();
      first.Step(0.02f);
    }
    Psgd second(restored.params(), options);
    for (size_t i = 0; i < original.params().size(); ++i) {
      restored.params()[i]->value.CopyFromPlain(original.params()[i]->value.flat());
    }
    const auto saved = first.State(), loaded = second.State();
    ASSERT_EQ(saved.size(), loaded.size());
    for (size_t i = 0; i < saved.size(); ++i) {
      ASSERT_EQ(saved[i].first, loaded[i].first);
      loaded[i].second.CopyFromPlain(saved[i].second.flat());
    }
    second.set_steps(first.steps());
    for (int step = 0; step < 2; ++step) {
      original.RandomGradients();
      for (size_t i = 0; i < original.params().size(); ++i) {
        restored.params()[i]->grad.CopyFromPlain(original.params()[i]->grad.flat());
      }
      first.Step(0.02f);
      second.Step(0.02f);
    }
    for (size_t i = 0; i < original.params().size(); ++i) {
      EXPECT_EQ(Values(restored.params()[i]->value.flat()),
                Values(original.params()[i]->value.flat()))
          << original.params()[i]->name;
    }
  }
}

TEST(PsgdTest, StateNames) {
  Model model(1);
  model.Add("conv.weight", ParamKind::kConvWeight, {2, 3});
  model.Add("bn.weight", ParamKind::kBnGamma, {2});
  auto names = [&](const PsgdOptions& options) {
    Psgd psgd(model.params(), options);
    std::vector<std::string> out;
    for (const auto& [name, tensor] : psgd.State()) out.push_back(name);
    return out;
  };
  EXPECT_THAT(names({}),
              ElementsAre("conv.weight/momentum", "conv.weight/grid_range", "bn.weight/momentum"));
  EXPECT_THAT(names({.method = PsgdMethod::kAdam}),
              ElementsAre("conv.weight/adam_m", "conv.weight/adam_v", "conv.weight/grid_range",
                          "bn.weight/adam_m", "bn.weight/adam_v"));
  EXPECT_THAT(names({.grid = {.estimate = RangeEstimate::kExact}}),
              ElementsAre("conv.weight/momentum", "bn.weight/momentum"));
}

TEST(PsgdTest, DiagnosticsByHand) {
  Model model(1);
  Parameter& conv = model.Add("conv.weight", ParamKind::kConvWeight, {4});
  conv.value.CopyFromPlain(std::vector<float>{1.0f, 0.25f, -0.75f, 0.0f});
  model.Add("bn.weight", ParamKind::kBnGamma, {4});
  // 2 bits, levels -1, 0, 1 with step 1: distances 0, 0.25, 0.25, 0.
  PsgdOptions options;
  options.policy = {.bits = 2, .widen_first_last = false};
  Psgd psgd(model.params(), options);
  for (int repeat = 0; repeat < 2; ++repeat) {  // diagnostics leave the state alone
    const std::vector<TensorDiagnostics> d = psgd.Diagnostics();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].name, "conv.weight");
    EXPECT_EQ(d[0].bits, 2);
    EXPECT_DOUBLE_EQ(d[0].mean_distance, 0.125);
    EXPECT_DOUBLE_EQ(d[0].quantization_mse, 0.03125);
  }
  EXPECT_TRUE(std::isnan(psgd.State()[1].second.flat()[0]));  // the moving average is not started

  options.target = TargetKind::kZero;
  Psgd pruning(model.params(), options);
  EXPECT_DOUBLE_EQ(pruning.Diagnostics()[0].mean_distance, 0.5);  // mean |w|
}

TEST(PsgdTest, RejectsBadOptions) {
  Model model(1);
  model.Add("conv.weight", ParamKind::kConvWeight, {2, 3});
  const engine::ParameterList& params = model.params();
  EXPECT_THAT([&] { Psgd(params, {.scaling = {.lambda = 0.0f}}); },
              ThrowsInvalidArgument("lambda_s must be > 0"));
  EXPECT_THAT([&] { Psgd(params, {.scaling = {.lambda = -1.0f}}); },
              ThrowsInvalidArgument("lambda_s must be > 0"));
  EXPECT_THAT([&] { Psgd(params, {.scaling = {.eps = -1e-3f}}); },
              ThrowsInvalidArgument("eps must be >= 0"));
  for (int bits : {0, 1, 9, 32}) {
    PsgdOptions options;
    options.policy.bits = bits;
    EXPECT_THAT([&] { Psgd(params, options); },
                ThrowsInvalidArgument("bit-width must be in [2, 8]"))
        << bits;
  }
  EXPECT_THAT([&] { Psgd(params, {.momentum = 0.0f, .nesterov = true}); },
              ThrowsInvalidArgument("Nesterov momentum requires momentum > 0"));
  EXPECT_THAT([&] { Psgd(params, {.adam_beta2 = 1.0f}); },
              ThrowsInvalidArgument("betas in [0, 1)"));
  Parameter state = Parameter::State("bn.running_mean", ParamKind::kBnRunningMean, {2}, 0.0f);
  EXPECT_THAT([&] { Psgd({&state}, {}); },
              ThrowsInvalidArgument("'bn.running_mean' is not trainable"));
  Psgd psgd(params, {});
  EXPECT_THAT([&] { psgd.Step(-0.1f); }, ThrowsInvalidArgument("learning rate must be >= 0"));
}

}  // namespace
}  // namespace psg::psgd
