#include "cli/prune_flags.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "data/testing/synthetic_data.h"
#include "engine/lr_schedule.h"
#include "engine/optimizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/zoo.h"
#include "pipeline/l0_training.h"
#include "prune/agp.h"
#include "prune/l0.h"
#include "prune/masked_optimizer.h"
#include "psg/psgd.h"
#include "train/gradient_pass.h"
#include "train/trainer.h"
#include "train/training_state.h"

ABSL_DECLARE_FLAG(double, prune_sparsity);
ABSL_DECLARE_FLAG(psg::prune::Scope, prune_scope);
ABSL_DECLARE_FLAG(bool, prune_first_last);
ABSL_DECLARE_FLAG(psg::cli::PruneMethod, prune_method);
ABSL_DECLARE_FLAG(int64_t, snip_batches);
ABSL_DECLARE_FLAG(double, agp_initial_sparsity);
ABSL_DECLARE_FLAG(int64_t, agp_start_step);
ABSL_DECLARE_FLAG(int64_t, agp_end_step);
ABSL_DECLARE_FLAG(int64_t, agp_frequency);
ABSL_DECLARE_FLAG(double, l0_lambda);
ABSL_DECLARE_FLAG(double, l0_gate_lr_scale);
ABSL_DECLARE_FLAG(psg::cli::L0GateOptimizer, l0_gate_optimizer);
ABSL_DECLARE_FLAG(double, l0_gate_lr);
ABSL_DECLARE_FLAG(double, l0_initial_drop);

namespace psg::cli {
namespace {

using ::testing::HasSubstr;

// Sets flag `name` from its text, as the command line does.
void SetFlagText(const char* name, const std::string& text) {
  std::string error;
  ASSERT_TRUE(absl::FindCommandLineFlag(name)->ParseFrom(text, &error)) << name << ": " << error;
}

// The command line's error for --<name>=<text> ("" if it is accepted).
std::string FlagTextError(const char* name, const std::string& text) {
  std::string error;
  return absl::FindCommandLineFlag(name)->ParseFrom(text, &error) ? "" : error;
}

bool IsPositiveZero(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits == 0;
}

// Every pruned weight of `masks` is exactly +0.
void ExpectPrunedAreZero(const prune::MaskSet& masks) {
  ASSERT_GT(masks.size(), 0);
  for (int i = 0; i < masks.size(); ++i) {
    const absl::Span<const float> m = masks.mask(i);
    const absl::Span<const float> w = masks.parameter(i).value.flat();
    for (size_t j = 0; j < m.size(); ++j) {
      if (m[j] == 0.0f) {
        ASSERT_TRUE(IsPositiveZero(w[j])) << masks.parameter(i).name << "[" << j << "]";
      }
    }
  }
}

prune::MaskedOptimizer& Masked(OptimizerFromFlags& o) {
  return dynamic_cast<prune::MaskedOptimizer&>(*o.optimizer);
}

// LeNet-5 with seeded weights; pruning covers conv2 and, with first/last, conv1 and fc3.
struct Model {
  explicit Model(uint64_t seed) : model(models::BuildModel({"lenet5", 3})) {
    models::InitializeParameters(*model, seed);
    model->CollectParameters(&params);
  }
  std::unique_ptr<engine::Sequential> model;
  engine::ParameterList params;
};

PruneFromFlags Flags(double sparsity, const std::string& scope, bool first_last) {
  absl::SetFlag(&FLAGS_prune_sparsity, sparsity);
  SetFlagText("prune_scope", scope);
  absl::SetFlag(&FLAGS_prune_first_last, first_last);
  absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
  EXPECT_TRUE(prune.ok()) << prune.status();
  return *prune;
}

OptimizerFromFlags SgdOver(const engine::ParameterList& params) {
  OptimizerFromFlags o;
  o.optimizer = std::make_unique<engine::Sgd>(engine::TrainableOnly(params),
                                              engine::SgdOptions{.momentum = 0.9f, .weight_decay = 5e-4f});
  return o;
}

std::string TempDir(const std::string& name) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(PruneFlagsTest, RejectsBadValuesWithClearMessages) {
  for (const auto& [sparsity, message] : std::vector<std::pair<double, std::string>>{
           {-0.5, "--prune_sparsity: pruning: sparsity must be in [0, 1), got -0.5"},
           {1.0, "sparsity must be in [0, 1), got 1"},
           {std::nan(""), "sparsity is NaN"}}) {
    absl::SetFlag(&FLAGS_prune_sparsity, sparsity);
    SetFlagText("prune_scope", "layer");
    absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
    ASSERT_FALSE(prune.ok());
    EXPECT_THAT(prune.status().message(), HasSubstr(message));
  }
  absl::SetFlag(&FLAGS_prune_sparsity, 0.5);
  EXPECT_EQ(FlagTextError("prune_scope", "channel"),
            "Illegal value 'channel' specified for flag 'prune_scope'; expected one of: layer, global");
}

TEST(PruneFlagsTest, DisabledLeavesTheOptimizerAlone) {
  Model m(1);
  OptimizerFromFlags o = SgdOver(m.params);
  engine::Optimizer* before = o.optimizer.get();
  auto report = AttachPruning(Flags(0.0, "layer", false), m.params, &o);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->empty());
  EXPECT_EQ(o.optimizer.get(), before);
  EXPECT_EQ(o.json["prune_sparsity"], 0.0);
  EXPECT_EQ(o.json["prune_scope"], "layer");
}

// Pruned weights stay exactly 0 through PSGD steps, zero and grid targets, SGD and Adam.
TEST(PruneFlagsTest, MaskedWeightsStayZeroThroughPsgdSteps) {
  for (psgd::TargetKind target : {psgd::TargetKind::kZero, psgd::TargetKind::kGrid}) {
    for (psgd::PsgdMethod method : {psgd::PsgdMethod::kSgd, psgd::PsgdMethod::kAdam}) {
      Model m(2);
      OptimizerFromFlags o;
      o.optimizer = std::make_unique<psgd::Psgd>(
          engine::TrainableOnly(m.params),
          psgd::PsgdOptions{.scaling = {.lambda = 5.0f, .eps = 1e-3f}, .target = target, .method = method,
                            .weight_decay = 5e-4f});
      auto report = AttachPruning(Flags(0.7, "global", true), m.params, &o);
      ASSERT_TRUE(report.ok()) << report.status();
      EXPECT_EQ(report->size(), 3u);  // conv1, conv2, fc3
      EXPECT_EQ(prune::Total(*report).pruned, std::llround(0.7 * prune::Total(*report).size));
      std::mt19937 rng(3);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      for (int step = 0; step < 5; ++step) {
        for (engine::Parameter* p : engine::TrainableOnly(m.params)) {
          for (float& g : p->grad.flat()) g = normal(rng);
        }
        o.optimizer->Step(0.01f);
        ExpectPrunedAreZero(Masked(o).masks());
      }
    }
  }
}

TEST(PruneFlagsTest, MasksSurviveACheckpointRoundTrip) {
  const std::string path = TempDir("round_trip") + "/state.safetensors";
  Model a(4);
  OptimizerFromFlags oa = SgdOver(a.params);
  ASSERT_TRUE(AttachPruning(Flags(0.6, "layer", true), a.params, &oa).ok());
  ASSERT_TRUE(train::SaveTrainingState(path, a.params, oa.optimizer.get(), {.step = 3}, {}).ok());

  Model b(5);  // other weights, so other masks until the checkpoint is loaded
  OptimizerFromFlags ob = SgdOver(b.params);
  ASSERT_TRUE(AttachPruning(Flags(0.3, "global", true), b.params, &ob).ok());
  absl::StatusOr<train::RunPosition> at = train::LoadTrainingState(path, b.params, ob.optimizer.get());
  ASSERT_TRUE(at.ok()) << at.status();
  const prune::MaskSet& ma = Masked(oa).masks();
  const prune::MaskSet& mb = Masked(ob).masks();
  ASSERT_EQ(ma.size(), mb.size());
  for (int i = 0; i < ma.size(); ++i) {
    EXPECT_THAT(mb.mask(i), ::testing::ElementsAreArray(ma.mask(i))) << ma.parameter(i).name;
    EXPECT_THAT(mb.parameter(i).value.flat(), ::testing::ElementsAreArray(ma.parameter(i).value.flat()));
  }
  EXPECT_DOUBLE_EQ(prune::Total(mb.Report()).sparsity, prune::Total(ma.Report()).sparsity);
}

// Two epochs of 8 batches of 8, into `dir`, quietly.
train::TrainerOptions ShortRun(const std::string& dir) {
  train::TrainerOptions to;
  to.epochs = 2;
  to.batch_size = 8;
  to.seed = 3;
  to.output_dir = dir;
  to.progress_every_steps = 0;
  return to;
}

// Trains a pruned LeNet-5 as a fresh process would (prune, then maybe
// resume); returns the final weights.
std::vector<std::vector<float>> TrainPruned(const data::TrainingData& data, const std::string& dir,
                                            int64_t stop_after, bool resume, Model* m) {
  OptimizerFromFlags o = SgdOver(m->params);
  EXPECT_TRUE(AttachPruning(Flags(0.8, "global", true), m->params, &o).ok());
  train::TrainerOptions to = ShortRun(dir);
  to.checkpoint_every_steps = 3;
  to.stop_after_steps = stop_after;
  if (resume) to.resume_from = dir + "/last.safetensors";
  auto schedule = engine::Cosine(0.05f, 16);
  train::Trainer trainer(to, *m->model, *o.optimizer, *schedule, data);
  absl::StatusOr<train::RunSummary> summary = trainer.Run();
  EXPECT_TRUE(summary.ok()) << summary.status();
  ExpectPrunedAreZero(Masked(o).masks());
  std::vector<std::vector<float>> values;
  for (engine::Parameter* p : m->params) values.push_back(p->value.ToPlain());
  return values;
}

TEST(PruneFlagsTest, PrunedFineTuningResumesExactlyWithItsMasks) {
  const std::unique_ptr<data::TrainingData> data =
      data::SyntheticData({.channels = 1, .size = 28, .train_images = 64});
  Model straight_model(6);
  const auto straight = TrainPruned(*data, TempDir("straight"), 0, false, &straight_model);

  const std::string dir = TempDir("interrupted");
  Model first(6);
  TrainPruned(*data, dir, 11, false, &first);
  // Other starting weights, hence other masks at pruning time: equality below
  // shows that the weights and the masks both come from the checkpoint.
  Model second(7);
  const auto resumed = TrainPruned(*data, dir, 0, true, &second);
  ASSERT_EQ(resumed.size(), straight.size());
  for (size_t i = 0; i < straight.size(); ++i) {
    EXPECT_EQ(resumed[i], straight[i]) << straight_model.params[i]->name;
  }
}


// Sets --prune_method and its flags for one test, and the defaults back after it.
class MethodFlags {
 public:
  MethodFlags(const std::string& method, int64_t snip_batches, int64_t agp_start, int64_t agp_end,
              int64_t agp_frequency, double agp_initial = 0.0) {
    Set(method, snip_batches, agp_start, agp_end, agp_frequency, agp_initial);
  }
  ~MethodFlags() { Set("magnitude", 1, 0, 0, 100, 0.0); }

 private:
  static void Set(const std::string& method, int64_t snip_batches, int64_t agp_start, int64_t agp_end,
                  int64_t agp_frequency, double agp_initial) {
    SetFlagText("prune_method", method);
    absl::SetFlag(&FLAGS_snip_batches, snip_batches);
    absl::SetFlag(&FLAGS_agp_start_step, agp_start);
    absl::SetFlag(&FLAGS_agp_end_step, agp_end);
    absl::SetFlag(&FLAGS_agp_frequency, agp_frequency);
    absl::SetFlag(&FLAGS_agp_initial_sparsity, agp_initial);
  }
};

std::string MethodError(const std::string& method, double sparsity, int64_t snip_batches, int64_t agp_start,
                        int64_t agp_end, int64_t agp_frequency, double agp_initial = 0.0) {
  MethodFlags flags(method, snip_batches, agp_start, agp_end, agp_frequency, agp_initial);
  absl::SetFlag(&FLAGS_prune_sparsity, sparsity);
  SetFlagText("prune_scope", "global");
  absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
  return prune.ok() ? "ok" : std::string(prune.status().message());
}

TEST(PruneFlagsTest, RejectsBadMethodsWithClearMessages) {
  EXPECT_EQ(
      FlagTextError("prune_method", "random"),
      "Illegal value 'random' specified for flag 'prune_method'; expected one of: magnitude, snip, agp, l0");
  EXPECT_THAT(MethodError("l0", 0.5, 1, 0, 0, 1),
              HasSubstr("--prune_method=l0 learns its sparsity (set by --l0_lambda): leave --prune_sparsity at 0, got 0.5"));
  EXPECT_THAT(MethodError("snip", 0.0, 1, 0, 0, 1), HasSubstr("--prune_method=snip needs --prune_sparsity > 0"));
  EXPECT_THAT(MethodError("agp", 0.0, 1, 0, 0, 1), HasSubstr("--prune_method=agp needs --prune_sparsity > 0"));
  EXPECT_THAT(MethodError("snip", 0.5, 0, 0, 0, 1), HasSubstr("--snip_batches must be >= 1, got 0"));
  EXPECT_THAT(MethodError("agp", 0.5, 1, 10, 5, 1), HasSubstr("--agp_*: AGP: end step (5) must be >= start step (10)"));
  EXPECT_THAT(MethodError("agp", 0.5, 1, 0, 10, 3), HasSubstr("frequency (3) must divide end step - start step (10)"));
  EXPECT_THAT(MethodError("agp", 0.5, 1, 0, 10, 0), HasSubstr("frequency must be >= 1 step, got 0"));
  EXPECT_THAT(MethodError("agp", 0.5, 1, 0, 10, 5, 0.7), HasSubstr("initial sparsity must be in [0, final sparsity 0.5], got 0.7"));
  EXPECT_EQ(MethodError("agp", 0.5, 1, 0, 10, 5), "ok");
  EXPECT_EQ(MethodError("snip", 0.5, 3, 0, 0, 1), "ok");
  MethodFlags agp("agp", 1, 0, 10, 5);
  absl::SetFlag(&FLAGS_prune_sparsity, 0.5);
  absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
  ASSERT_TRUE(prune.ok());
  EXPECT_TRUE(CheckPruneSchedule(*prune, 11).ok());
  EXPECT_THAT(CheckPruneSchedule(*prune, 10).message(),
              HasSubstr("--agp_end_step (10) must be below the run's total optimizer steps (10)"));
  Model m(1);
  OptimizerFromFlags o = SgdOver(m.params);
  MethodFlags snip("snip", 1, 0, 0, 1);
  EXPECT_THAT(AttachPruning(*ReadPruneFlags(), m.params, &o).status().message(),
              HasSubstr("--prune_method=snip needs a gradient pass"));
}

// The covered weights' masks after training, checked against the weights:
// the pruned fraction of each tensor (or of all) is the requested one and
// every pruned weight is exactly 0.
void ExpectSparsity(const prune::MaskSet& masks, double sparsity, prune::Scope scope) {
  ExpectPrunedAreZero(masks);
  const std::vector<prune::LayerSparsity> report = masks.Report();
  if (scope == prune::Scope::kGlobal) {
    EXPECT_EQ(prune::Total(report).pruned, std::llround(sparsity * prune::Total(report).size));
  } else {
    for (const prune::LayerSparsity& l : report) EXPECT_EQ(l.pruned, std::llround(sparsity * l.size)) << l.name;
  }
}

// Trains LeNet-5 for two epochs of 8 steps with the pruning of `prune`; the
// weights move (training ran) and the final masks are returned via `o`.
void TrainWith(const PruneFromFlags& prune, const data::TrainingData& data, const std::string& dir, Model* m,
               OptimizerFromFlags* o) {
  auto report = AttachPruning(prune, m->params, o, train::TrainingGradients(*m->model, data, 8));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(CheckPruneSchedule(prune, 16).ok());
  std::vector<std::vector<float>> before;
  for (engine::Parameter* p : m->params) before.push_back(p->value.ToPlain());
  const train::TrainerOptions to = ShortRun(dir);
  auto schedule = engine::Cosine(0.05f, 16);
  train::Trainer trainer(to, *m->model, *o->optimizer, *schedule, data);
  absl::StatusOr<train::RunSummary> summary = trainer.Run();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->steps, 16);
  EXPECT_EQ(o->optimizer->steps(), 16);
  int changed = 0;
  for (size_t i = 0; i < m->params.size(); ++i) changed += m->params[i]->value.ToPlain() != before[i];
  EXPECT_GT(changed, 0);
}

TEST(PruneFlagsTest, SnipPrunesBeforeTrainingAndKeepsTheSparsity) {
  const std::unique_ptr<data::TrainingData> data =
      data::SyntheticData({.channels = 1, .size = 28, .train_images = 64});
  for (const std::string scope : {"global", "layer"}) {
    MethodFlags flags("snip", 2, 0, 0, 1);
    const PruneFromFlags prune = Flags(0.75, scope, true);
    Model m(8);
    std::vector<std::vector<float>> start;
    for (engine::Parameter* p : m.params) start.push_back(p->value.ToPlain());
    OptimizerFromFlags o = SgdOver(m.params);
    auto report = AttachPruning(prune, m.params, &o, train::TrainingGradients(*m.model, *data, 8));
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_THAT(o.description, HasSubstr("by SNIP saliency |w * g| (2 batches)"));
    EXPECT_EQ(o.json["prune_method"], "snip");
    EXPECT_EQ(o.json["snip_batches"], 2);
    const prune::MaskSet& masks = Masked(o).masks();
    ExpectSparsity(masks, 0.75, scope == "global" ? prune::Scope::kGlobal : prune::Scope::kLayer);
    // Not magnitude pruning: some kept weight is smaller than some pruned one.
    float max_pruned = 0, min_kept = 1e30f;
    for (int i = 0; i < masks.size(); ++i) {
      const int index = static_cast<int>(std::find(m.params.begin(), m.params.end(), &masks.parameter(i)) - m.params.begin());
      for (size_t j = 0; j < masks.mask(i).size(); ++j) {
        const float w = std::fabs(start[index][j]);
        if (masks.mask(i)[j] == 0.0f) {
          max_pruned = std::max(max_pruned, w);
        } else {
          min_kept = std::min(min_kept, w);
        }
      }
    }
    EXPECT_LT(min_kept, max_pruned);
  }
  MethodFlags flags("snip", 2, 0, 0, 1);
  Model m(9);
  OptimizerFromFlags o = SgdOver(m.params);
  TrainWith(Flags(0.75, "global", true), *data, TempDir("snip"), &m, &o);
  ExpectSparsity(Masked(o).masks(), 0.75, prune::Scope::kGlobal);
  MethodFlags too_many("snip", 9, 0, 0, 1);
  Model n(9);
  OptimizerFromFlags on = SgdOver(n.params);
  EXPECT_THAT(AttachPruning(Flags(0.75, "global", true), n.params, &on, train::TrainingGradients(*n.model, *data, 8))
                  .status()
                  .message(),
              HasSubstr("--snip_batches=9: the training set has only 8 batches"));
}

TEST(PruneFlagsTest, AgpReachesTheFinalSparsityGradually) {
  const std::unique_ptr<data::TrainingData> data =
      data::SyntheticData({.channels = 1, .size = 28, .train_images = 64});
  for (const std::string scope : {"global", "layer"}) {
    MethodFlags flags("agp", 1, 2, 10, 4);
    const PruneFromFlags prune = Flags(0.8, scope, false);
    Model m(10);
    OptimizerFromFlags o = SgdOver(m.params);
    TrainWith(prune, *data, TempDir("agp_" + scope), &m, &o);
    auto& agp = dynamic_cast<prune::AgpOptimizer&>(*o.optimizer);
    EXPECT_DOUBLE_EQ(prune::AgpSparsity(agp.options(), 6), 0.8 - 0.8 / 8);
    ExpectSparsity(agp.masks(), 0.8, scope == "global" ? prune::Scope::kGlobal : prune::Scope::kLayer);
    EXPECT_THAT(o.description, HasSubstr("from 0.00 % at step 2 to 80.00 % at step 10, every 4 steps"));
  }
}

// Sets --prune_method=l0 and its flags for one test, and the defaults back after it.
class L0Flags {
 public:
  L0Flags(double lambda, double initial_drop, double gate_lr_scale = 1.0,
          const std::string& gate_optimizer = "sgd") {
    Set("l0", lambda, initial_drop, gate_lr_scale, gate_optimizer);
  }
  ~L0Flags() { Set("magnitude", 0.0, 0.1, 1.0, "adam"); }

 private:
  static void Set(const std::string& method, double lambda, double initial_drop, double gate_lr_scale,
                  const std::string& gate_optimizer) {
    SetFlagText("prune_method", method);
    absl::SetFlag(&FLAGS_l0_lambda, lambda);
    absl::SetFlag(&FLAGS_l0_initial_drop, initial_drop);
    absl::SetFlag(&FLAGS_l0_gate_lr_scale, gate_lr_scale);
    SetFlagText("l0_gate_optimizer", gate_optimizer);
  }
};

std::string L0Error(double lambda, double initial_drop, double gate_lr_scale = 1.0,
                    const std::string& gate_optimizer = "sgd") {
  L0Flags flags(lambda, initial_drop, gate_lr_scale, gate_optimizer);
  absl::SetFlag(&FLAGS_prune_sparsity, 0.0);
  absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
  return prune.ok() ? "ok" : std::string(prune.status().message());
}

TEST(PruneFlagsTest, RejectsBadL0FlagsWithClearMessages) {
  EXPECT_THAT(L0Error(-1.0, 0.1), HasSubstr("--l0_lambda must be finite and >= 0, got -1"));
  EXPECT_THAT(L0Error(std::nan(""), 0.1), HasSubstr("--l0_lambda must be finite and >= 0, got nan"));
  EXPECT_THAT(L0Error(1e-4, 0.0), HasSubstr("--l0_initial_drop must be in (0, 1), got 0"));
  EXPECT_THAT(L0Error(1e-4, 1.0), HasSubstr("--l0_initial_drop must be in (0, 1), got 1"));
  EXPECT_THAT(L0Error(1e-4, -0.2), HasSubstr("--l0_initial_drop must be in (0, 1), got -0.2"));
  EXPECT_THAT(L0Error(1e-4, 0.1, 0.0), HasSubstr("--l0_gate_lr_scale must be finite and > 0, got 0"));
  EXPECT_THAT(L0Error(1e-4, 0.1, INFINITY), HasSubstr("--l0_gate_lr_scale must be finite and > 0, got inf"));
  EXPECT_EQ(L0Error(0.0, 0.5), "ok");
  EXPECT_THAT(L0Error(1e-4, 0.1, 600.0, "adam"),
              HasSubstr("--l0_gate_lr_scale=600 scales the gates' gradients under --l0_gate_optimizer=sgd"));
  EXPECT_EQ(FlagTextError("l0_gate_optimizer", "rmsprop"),
            "Illegal value 'rmsprop' specified for flag 'l0_gate_optimizer'; expected one of: adam, sgd");
  Model m(1);
  {
    L0Flags flags(2e-4, 0.2, 300.0);
    absl::SetFlag(&FLAGS_prune_sparsity, 0.0);
    absl::SetFlag(&FLAGS_prune_first_last, true);
    absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
    absl::SetFlag(&FLAGS_prune_first_last, false);
    ASSERT_TRUE(prune.ok()) << prune.status();
    EXPECT_TRUE(prune->enabled);
    EXPECT_EQ(prune->method, PruneMethod::kL0);
    EXPECT_EQ(prune->l0.lambda, 2e-4);
    EXPECT_EQ(prune->l0.initial_drop, 0.2);
    EXPECT_EQ(prune->l0.gate_lr_scale, 300.0);
    EXPECT_TRUE(prune->l0.prune_first_last);
    OptimizerFromFlags o = SgdOver(m.params);
    engine::Optimizer* before = o.optimizer.get();
    auto report = AttachPruning(*prune, m.params, &o);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->empty());
    EXPECT_EQ(o.optimizer.get(), before);  // the gates run around the steps, not in the optimizer
    EXPECT_EQ(o.json["prune_method"], "l0");
    EXPECT_EQ(o.json["l0_lambda"], 0.0002);
    EXPECT_EQ(o.json["l0_initial_drop"], 0.2);
    EXPECT_EQ(o.json["l0_gate_lr_scale"], 300);
    EXPECT_THAT(o.description, HasSubstr("L0 regularization (hard concrete gates, Louizos et al. 2018) of the "
                                         "covered weights (first/last included): lambda 0.0002"));
    const std::unique_ptr<prune::L0Gates> gates = MakeL0Gates(*prune, m.params, 3);
    ASSERT_NE(gates, nullptr);
    EXPECT_EQ(gates->parameters().size(), 3u);  // conv1, conv2, fc3
    EXPECT_EQ(gates->options().seed, 3u);
  }
  EXPECT_EQ(MakeL0Gates(Flags(0.5, "layer", false), m.params, 3), nullptr);
}

TEST(PruneFlagsTest, AdamGatesGetTheirOwnOptimizerAtTheirShareOfTheSchedule) {
  Model m(1);
  L0Flags flags(1e-4, 0.1, 1.0, "adam");
  absl::SetFlag(&FLAGS_prune_sparsity, 0.0);
  absl::SetFlag(&FLAGS_l0_gate_lr, 2e-3);
  absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
  absl::SetFlag(&FLAGS_l0_gate_lr, 1e-3);
  ASSERT_TRUE(prune.ok()) << prune.status();
  EXPECT_TRUE(prune->l0_gates_adam);
  const std::unique_ptr<prune::L0Gates> gates = MakeL0Gates(*prune, m.params, 3);
  OptimizerFromFlags o = SgdOver(engine::TrainableOnly(m.params));
  AddL0GateOptimizer(*prune, gates.get(), /*base_lr=*/0.1, &o);
  EXPECT_EQ(o.json["l0_gate_optimizer"], "adam");
  EXPECT_EQ(o.json["l0_gate_lr"], 2e-3);
  EXPECT_THAT(o.description, HasSubstr("L0 gates by Adam at lr 0.002"));
  // One step at the schedule's lr 0.05 moves every gate by Adam's first step,
  // lr * sign(g): 2e-3 * 0.05 / 0.1 = 1e-3.
  engine::Parameter* gate = gates->parameters()[0];
  const std::vector<float> before = gate->value.ToPlain();
  gate->grad.Fill(0.25f);
  for (engine::Parameter* p : engine::TrainableOnly(m.params)) p->grad.Fill(0.0f);
  for (size_t i = 1; i < gates->parameters().size(); ++i) gates->parameters()[i]->grad.Fill(0.0f);
  o.optimizer->Step(0.05f);
  const std::vector<float> after = gate->value.ToPlain();
  for (size_t i = 0; i < after.size(); ++i) EXPECT_NEAR(before[i] - after[i], 1e-3f, 1e-7f) << i;
  std::vector<std::string> names;
  for (const auto& [name, tensor] : o.optimizer->State()) names.push_back(name);
  EXPECT_THAT(names, ::testing::Contains(gate->name + "/adam_m"));
}

struct L0Run {
  std::vector<std::vector<float>> values;  // the model's parameters, then the gates'
  prune::LayerSparsity total;              // by the evaluation gates
  std::string summary;
};

// Trains LeNet-5 with L0 gates (--l0_lambda=`lambda`) as a fresh process
// would: gates, optimizer over the weights and the gates, then maybe resume.
L0Run TrainL0(const data::TrainingData& data, const std::string& dir, double lambda, int64_t stop_after,
              bool resume, Model* m) {
  L0Flags flags(lambda, 0.1);
  const PruneFromFlags prune = Flags(0.0, "layer", true);
  const std::unique_ptr<prune::L0Gates> gates = MakeL0Gates(prune, m->params, /*seed=*/3);
  EXPECT_NE(gates, nullptr);
  if (resume) {  // garbage: the resumed gates must come from the checkpoint
    for (engine::Parameter* a : gates->parameters()) a->value.Fill(-7.0f);
  }
  engine::ParameterList trainable = engine::TrainableOnly(m->params);
  for (engine::Parameter* a : gates->parameters()) trainable.push_back(a);
  OptimizerFromFlags o = SgdOver(trainable);
  EXPECT_TRUE(AttachPruning(prune, m->params, &o).ok());
  train::TrainerOptions to = ShortRun(dir);
  to.checkpoint_every_steps = 3;
  to.stop_after_steps = stop_after;
  if (resume) to.resume_from = dir + "/last.safetensors";
  auto schedule = engine::Cosine(0.05f, 16);
  train::Trainer trainer(to, *m->model, *o.optimizer, *schedule, data);
  pipeline::AttachL0Gates(gates.get(), *o.optimizer, &trainer);
  absl::StatusOr<train::RunSummary> summary = trainer.Run();
  EXPECT_TRUE(summary.ok()) << summary.status();
  EXPECT_FALSE(gates->gated());
  L0Run run;
  for (engine::Parameter* p : m->params) run.values.push_back(p->value.ToPlain());
  for (engine::Parameter* a : gates->parameters()) run.values.push_back(a->value.ToPlain());
  run.total = prune::Total(gates->Report());
  run.summary = pipeline::L0Summary(*gates);
  return run;
}

TEST(PruneFlagsTest, L0GatesPruneWithALargeLambdaAndResumeExactly) {
  const std::unique_ptr<data::TrainingData> data =
      data::SyntheticData({.channels = 1, .size = 28, .train_images = 64});
  Model free_model(12);
  const L0Run free = TrainL0(*data, TempDir("l0_free"), 0.0, 0, false, &free_model);
  EXPECT_EQ(free.total.pruned, 0);  // the data term alone closes no gate in 16 steps

  Model straight_model(12);
  const L0Run straight = TrainL0(*data, TempDir("l0_straight"), 120.0, 0, false, &straight_model);
  std::printf("%s", straight.summary.c_str());
  EXPECT_GT(straight.total.sparsity, 0.5) << straight.summary;
  EXPECT_THAT(straight.summary, HasSubstr("| total | "));
  EXPECT_THAT(straight.summary, HasSubstr("covered sparsity "));

  const std::string dir = TempDir("l0_interrupted");
  Model first(12);
  TrainL0(*data, dir, 120.0, 11, false, &first);
  Model second(13);  // other starting weights: equality shows they come from the checkpoint
  const L0Run resumed = TrainL0(*data, dir, 120.0, 0, true, &second);
  ASSERT_EQ(resumed.values.size(), straight.values.size());
  for (size_t i = 0; i < straight.values.size(); ++i) EXPECT_EQ(resumed.values[i], straight.values[i]) << i;
  EXPECT_EQ(resumed.total.pruned, straight.total.pruned);
}

}  // namespace
}  // namespace psg::cli
