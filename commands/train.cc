// Trains a model of the zoo on a dataset with SGD or PSGD.
//
//   bazel run //experiments:train -- --model=resnet20 --dataset=cifar10
//       --epochs=40 --schedule=onecycle --lr=0.1 --nesterov --weight_decay=5e-4
//       --output_dir=/tmp/run1
//
//   # PSG's two-stage recipe: PSGD from an SGD checkpoint, own lr and schedule
//   bazel run //experiments:train -- --init_from=/tmp/run1/last.safetensors
//       --optimizer=psgd --psg_bits=4 --psg_lambda=150 --lr=0.01 --epochs=10 ...
//   # PSG with Adam (released appendix): from an --optimizer=adam run, with its moments
//   bazel run //experiments:train -- --init_from=/tmp/adam/last.safetensors
//       --init_optimizer_state --optimizer=psgd --psg_method=adam --lr=1e-4 ...
//
//   # quantization-aware training (cli/qat_flags.h), e.g. LSQ W4A4
//   bazel run //experiments:train -- --init_from=/tmp/run1/last.safetensors
//       --qat=lsq --qat_bits=4 --qat_act_bits=4 --lr=0.01 --epochs=10 ...
//
//   # one-shot magnitude pruning, then fine-tuning with the masks (prune_flags.h)
//   bazel run //experiments:train -- --init_from=/tmp/run1/last.safetensors
//       --prune_sparsity=0.9 --prune_scope=global --lr=0.01 --epochs=10 ...
//   # baselines: SNIP at initialization, gradual magnitude pruning (AGP)
//   bazel run //experiments:train -- --prune_method=snip --prune_sparsity=0.9 --prune_scope=global ...
//   bazel run //experiments:train -- --prune_method=agp --prune_sparsity=0.9
//       --agp_start_step=0 --agp_end_step=30000 --agp_frequency=1000 ...
//   # L0 regularization with hard concrete gates (the sparsity is learned)
//   bazel run //experiments:train -- --prune_method=l0 --l0_lambda=1e-4 --l0_initial_drop=0.1 ...
//
//   # bf16 arithmetic on AVX512-BF16 / AMX CPUs (f32 master weights, engine/precision.h)
//   bazel run //experiments:train -- --precision=bf16 ...
//   # data-parallel on 2 ranks (cli/distributed_flags.h), batch 128 each
//   mpirun -np 2 bazel-bin/commands/train --distributed=mpi --sync_bn ...
//
// Writes <output_dir>/metrics.jsonl (one JSON line per epoch),
// last.safetensors (atomic checkpoint; --resume continues from it exactly)
// and result.json, and prints a progress line and a final table. Ctrl-C
// (SIGINT) or SIGTERM stops at the next step with a checkpoint and exit code
// 0; a second one ends the process at once (docs/reliability.md).
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/common_flags.h"
#include "cli/distributed_flags.h"
#include "cli/eval_images_flag.h"
#include "cli/lr_flags.h"
#include "cli/model_loading.h"
#include "cli/optimizer_flags.h"
#include "cli/output_dir_flag.h"
#include "cli/prune_flags.h"
#include "cli/qat_flags.h"
#include "cli/seed_flag.h"
#include "data/datasets.h"
#include "data/loader.h"
#include "engine/precision.h"
#include "flags/ranges.h"
#include "io/files.h"
#include "io/json_writer.h"
#include "models/zoo.h"
#include "pipeline/l0_training.h"
#include "train/gradient_norm.h"
#include "train/gradient_pass.h"
#include "train/lipschitz.h"
#include "train/stop_signals.h"
#include "train/trainer.h"
#include "train/training_state.h"

using psg::flags::AtLeast;

ABSL_FLAG(int64_t, epochs, 40, "training epochs");
PSG_FLAG_RANGE(epochs, AtLeast(1));
ABSL_FLAG(bool, drop_last, false,
          "drop each epoch's last, smaller batch (released PSG code: kept, 391 steps per CIFAR epoch)");
ABSL_FLAG(double, momentum, 0.9, "SGD momentum");
PSG_FLAG_RANGE(momentum, psg::flags::FromUpTo(0, 1));
ABSL_FLAG(bool, nesterov, false, "Nesterov momentum");
ABSL_FLAG(double, weight_decay, 5e-4, "L2 weight decay (added to the gradient, as torch.optim.SGD)");
PSG_FLAG_RANGE(weight_decay, AtLeast(0));
ABSL_FLAG(double, label_smoothing, 0.0, "label smoothing of the cross-entropy loss");
PSG_FLAG_RANGE(label_smoothing, psg::flags::FromUpTo(0, 1));
ABSL_FLAG(int64_t, checkpoint_every_steps, 100, "also checkpoint every N steps (0: epoch ends only)");
PSG_FLAG_RANGE(checkpoint_every_steps, AtLeast(0));
ABSL_FLAG(std::string, init_from, "", "start from this checkpoint's weights (fresh optimizer, epoch 0)");
ABSL_FLAG(bool, init_optimizer_state, false,
          "with --init_from: also start from its optimizer state (moments and step count), as the "
          "released PSG-Adam starts from an Adam run's; the checkpoint must hold every state tensor "
          "of this run's optimizer except PSGD's grid ranges");
ABSL_FLAG(std::string, resume, "", "checkpoint to resume from; 'auto' = <output_dir>/last.safetensors if present");
ABSL_FLAG(int64_t, stop_after_steps, 0, "stop with a checkpoint after this many optimizer steps in total (0: never)");
PSG_FLAG_RANGE(stop_after_steps, AtLeast(0));
ABSL_FLAG(int64_t, max_train_images, 0, "train on the first N images only (0: all; for smoke runs)");
PSG_FLAG_RANGE(max_train_images, AtLeast(0));
ABSL_FLAG(int, progress_every, 50, "print a progress line every N steps");
PSG_FLAG_RANGE(progress_every, AtLeast(0));
ABSL_FLAG(double, gradient_l1, 0.0,
          "Gradient-L1 regularization's lambda (Alizadeh et al. 2020; one extra forward/backward "
          "pass per step; 0: off)");
PSG_FLAG_RANGE(gradient_l1, AtLeast(0));
ABSL_FLAG(double, gradient_l2, 0.0,
          "Gradient-L2 regularization's lambda (lambda * ||dL/dw||_2; one extra forward/backward "
          "pass per step; 0: off)");
PSG_FLAG_RANGE(gradient_l2, AtLeast(0));
ABSL_FLAG(double, gradient_l1_step, 1e-3,
          "Gradient-L1 and -L2: finite-difference step of their Hessian-vector product");
PSG_FLAG_RANGE(gradient_l1_step, psg::flags::GreaterThan(0));
ABSL_FLAG(double, lipschitz, 0.0,
          "Lipschitz regularization's beta (Lin et al. 2019: beta / 2 ||W W^T - I||^2 per layer; 0: off)");
PSG_FLAG_RANGE(lipschitz, AtLeast(0));
ABSL_FLAG(psg::engine::Precision, precision, psg::engine::Precision::kFp32,
          "arithmetic of convolutions and linear layers: fp32, or bf16 (bf16 activations and "
          "weight copies, f32 master weights, gradients and loss; needs AVX512-BF16 or AMX)");
ABSL_FLAG(int64_t, profile_step, 0,
          "print where the time of this step of the run goes (per layer and direction, "
          "outside oneDNN primitives) and write profile.json (0: off)");
PSG_FLAG_RANGE(profile_step, AtLeast(0));

namespace {

using psg::cli::Fail;
using psg::cli::UserPath;

using psg::io::Json;

Json FlagsJson(const Json& optimizer_json, const Json& qat_json, const Json& distributed_json) {
  Json json = {{"model", absl::GetFlag(FLAGS_model)},
               {"shortcut", absl::UnparseFlag(absl::GetFlag(FLAGS_shortcut))},
               {"dataset", absl::GetFlag(FLAGS_dataset)},
               {"epochs", absl::GetFlag(FLAGS_epochs)},
               {"batch_size", absl::GetFlag(FLAGS_batch_size)},
               {"drop_last", absl::GetFlag(FLAGS_drop_last)},
               {"momentum", absl::GetFlag(FLAGS_momentum)},
               {"nesterov", absl::GetFlag(FLAGS_nesterov)},
               {"weight_decay", absl::GetFlag(FLAGS_weight_decay)},
               {"label_smoothing", absl::GetFlag(FLAGS_label_smoothing)},
               {"gradient_l1", absl::GetFlag(FLAGS_gradient_l1)},
               {"gradient_l2", absl::GetFlag(FLAGS_gradient_l2)},
               {"gradient_l1_step", absl::GetFlag(FLAGS_gradient_l1_step)},
               {"lipschitz", absl::GetFlag(FLAGS_lipschitz)},
               {"seed", absl::GetFlag(FLAGS_seed)},
               {"precision", absl::UnparseFlag(absl::GetFlag(FLAGS_precision))},
               {"init_from", absl::GetFlag(FLAGS_init_from)},
               {"init_optimizer_state", absl::GetFlag(FLAGS_init_optimizer_state)}};
  json.update(psg::cli::LrFlagsJson());
  json.update(optimizer_json);
  json.update(qat_json);
  json["distributed"] = distributed_json;
  return json;
}

// result.json of a finished run.
absl::Status WriteResult(const std::string& path, const Json& flags, const psg::train::RunSummary& summary,
                         const psg::prune::L0Gates* l0_gates) {
  const psg::train::EpochResult& r = summary.last;
  Json json = {{"flags", flags},
               {"final_test_accuracy", r.test_accuracy},
               {"best_test_accuracy", summary.best_test_accuracy},
               {"final_train_accuracy", r.train_accuracy},
               {"steps", summary.steps},
               {"last_epoch_seconds", r.seconds},
               {"train_images_per_second", r.train_images_per_second},
               {"threads", omp_get_max_threads()}};
  // L0's covered sparsity (evaluation gates at 0), which its lambda decides.
  if (l0_gates != nullptr) json["l0_sparsity"] = psg::prune::Total(l0_gates->Report()).sparsity;
  return psg::io::WriteJsonFile(path, json);
}

// The run's model options: --precision, and the QAT activation layer and
// batch-norm sync on top of the model flags'. Refuses what bf16 cannot serve
// before anything is built.
absl::StatusOr<psg::models::ModelOptions> RunModelOptions(
    psg::models::ModelOptions mo, const psg::cli::QatFromFlags& qat,
    const psg::cli::DistributedFromFlags& distributed) {
  mo.precision = absl::GetFlag(FLAGS_precision);
  psg::engine::RequirePrecision(mo.precision);
  if (mo.precision == psg::engine::Precision::kBf16) {
    // Both read values at a finer resolution than bf16 activations carry.
    if (qat.activation_layer) {
      return absl::InvalidArgumentError(
          "--precision=bf16: activation quantization (--qat_act_bits) runs on f32 "
          "activations; use --precision=fp32 or --qat_act_bits=0");
    }
    if (absl::GetFlag(FLAGS_gradient_l1) != 0.0 || absl::GetFlag(FLAGS_gradient_l2) != 0.0) {
      return absl::InvalidArgumentError(
          "--precision=bf16: Gradient-L1/L2's finite differences (step "
          "--gradient_l1_step) are below bf16's resolution; use --precision=fp32");
    }
  }
  mo.activation_layer = qat.activation_layer;
  mo.batch_norm_sync = distributed.batch_norm_sync();
  return mo;
}

// The network and its parameter list (which points into it).
struct RunModel {
  std::unique_ptr<psg::engine::Sequential> net;
  psg::engine::ParameterList params;
};

// Builds the model and initializes it from --seed, then from --init_from's
// weights when given, so that a run can start where another one ended.
absl::Status BuildRunModel(const psg::models::ModelOptions& mo, RunModel* model) {
  model->net = psg::models::BuildModel(mo);
  psg::models::InitializeParameters(*model->net, absl::GetFlag(FLAGS_seed));
  model->net->CollectParameters(&model->params);
  if (const std::string init = absl::GetFlag(FLAGS_init_from); !init.empty()) {
    // The model's weights; learned quantizer parameters start afresh.
    auto loaded = psg::train::LoadTrainingState(
        init, psg::cli::WithoutQuantizerParameters(model->params), nullptr,
        psg::cli::CheckpointChecks(mo.name));
    if (!loaded.ok()) return loaded.status();
    std::printf("initialized from %s (epoch %lld of its run)\n", init.c_str(),
                static_cast<long long>(loaded->epoch));
  }
  return absl::OkStatus();
}

// How the model is trained: the optimizer with QAT's weight quantizer, the
// pruning and the L0 gates the flags ask for. Filled in place, since the
// pieces attached to the optimizer refer to the others.
struct RunTraining {
  std::unique_ptr<psg::quant::WeightFakeQuantizer> weight_quantizer;
  psg::cli::PruneFromFlags prune;
  std::unique_ptr<psg::prune::L0Gates> l0_gates;
  psg::cli::OptimizerFromFlags optimizer;
};

// --init_optimizer_state: the optimizer's state (moments and step count) from
// --init_from, as the released PSG-Adam starts from an Adam run's.
absl::Status LoadInitialOptimizerState(psg::engine::Optimizer& optimizer) {
  if (!absl::GetFlag(FLAGS_init_optimizer_state)) return absl::OkStatus();
  const std::string init = absl::GetFlag(FLAGS_init_from);
  if (init.empty()) return absl::InvalidArgumentError("--init_optimizer_state needs --init_from");
  // PSGD's moving-average grid ranges start from the weights when absent.
  const absl::StatusOr<int> restored = psg::train::LoadOptimizerState(
      init, optimizer,
      [](const std::string& name) { return absl::EndsWith(name, "/grid_range"); });
  if (!restored.ok()) return restored.status();
  std::printf("optimizer state from %s: %d tensors, step %lld\n", init.c_str(), *restored,
              static_cast<long long>(optimizer.steps()));
  return absl::OkStatus();
}

// The optimizer over the trainable parameters (the model's, the quantizer's
// and SGD-trained L0 gates'), wrapped for pruning and Adam-trained L0 gates;
// after the weights are loaded, since pruning reads them.
absl::Status BuildRunTraining(const psg::cli::QatFromFlags& qat, const RunModel& model,
                              const psg::data::TrainingData& data, RunTraining* training) {
  training->weight_quantizer = psg::cli::MakeWeightQuantizer(qat, model.params);
  // --prune_sparsity: one-shot magnitude pruning, then training with the masks;
  // --prune_method=l0: learned gates, trained with the weights.
  absl::StatusOr<psg::cli::PruneFromFlags> prune = psg::cli::ReadPruneFlags();
  if (!prune.ok()) return prune.status();
  training->prune = *std::move(prune);
  training->l0_gates =
      psg::cli::MakeL0Gates(training->prune, model.params, absl::GetFlag(FLAGS_seed));
  psg::engine::ParameterList trainable = psg::engine::TrainableOnly(model.params);
  if (training->weight_quantizer) {
    for (psg::engine::Parameter* p : training->weight_quantizer->parameters()) trainable.push_back(p);
  }
  if (training->l0_gates && !training->prune.l0_gates_adam) {
    for (psg::engine::Parameter* p : training->l0_gates->parameters()) trainable.push_back(p);
  }
  auto optimizer = psg::cli::MakeOptimizer(
      trainable, absl::GetFlag(FLAGS_momentum),
      absl::GetFlag(FLAGS_nesterov), absl::GetFlag(FLAGS_weight_decay));
  if (!optimizer.ok()) return optimizer.status();
  training->optimizer = *std::move(optimizer);
  if (auto pruned = psg::cli::AttachPruning(
          training->prune, model.params, &training->optimizer,
          psg::train::TrainingGradients(*model.net, data, absl::GetFlag(FLAGS_batch_size)));
      !pruned.ok()) {
    return pruned.status();
  }
  psg::cli::AddL0GateOptimizer(training->prune, training->l0_gates.get(), absl::GetFlag(FLAGS_lr),
                               &training->optimizer);
  return LoadInitialOptimizerState(*training->optimizer.optimizer);
}

// The trainer's options from the flags. The flags and the model name go into
// every checkpoint; --resume=auto continues from <output_dir>/last.safetensors.
psg::train::TrainerOptions TrainerOptionsFromFlags(const std::string& output_dir,
                                                   const Json& flags_json,
                                                   const std::string& model_name,
                                                   const psg::cli::DistributedFromFlags& distributed) {
  psg::train::TrainerOptions to;
  to.epochs = absl::GetFlag(FLAGS_epochs);
  to.batch_size = absl::GetFlag(FLAGS_batch_size);
  to.drop_last = absl::GetFlag(FLAGS_drop_last);
  to.seed = absl::GetFlag(FLAGS_seed);
  to.loader_workers = absl::GetFlag(FLAGS_workers);
  to.label_smoothing = absl::GetFlag(FLAGS_label_smoothing);
  to.max_train_images = absl::GetFlag(FLAGS_max_train_images);
  to.max_eval_images = absl::GetFlag(FLAGS_max_eval_images);
  to.output_dir = output_dir;
  to.checkpoint_every_steps = absl::GetFlag(FLAGS_checkpoint_every_steps);
  to.progress_every_steps = absl::GetFlag(FLAGS_progress_every);
  to.profile_step = absl::GetFlag(FLAGS_profile_step);
  to.stop_after_steps = absl::GetFlag(FLAGS_stop_after_steps);
  to.metadata["flags"] = psg::io::JsonCompact(flags_json);
  to.metadata[psg::train::kModelMetadata] = model_name;
  to.resume_invariants = psg::cli::ScheduleInvariants(to.epochs);
  to.data_parallel = distributed.mpi.get();
  to.replica_check_every_steps = distributed.check_every_steps;
  std::string resume = absl::GetFlag(FLAGS_resume);
  if (resume == "auto") {
    resume = std::filesystem::exists(output_dir + "/last.safetensors") ? output_dir + "/last.safetensors" : "";
  } else {
    resume = UserPath(resume);
  }
  to.resume_from = resume;
  return to;
}

// The log's header: what is trained on what, how, and at which precision.
void PrintRunDescription(const psg::models::ModelOptions& mo, const RunModel& model,
                         const psg::data::TrainingData& data, int64_t train_images,
                         int64_t steps_per_epoch, const psg::cli::DistributedFromFlags& distributed,
                         const RunTraining& training, const psg::cli::QatFromFlags& qat) {
  std::printf("model %s (%lld parameters), %s: %lld train / %lld test images, %lld steps per epoch, %d threads\n",
              mo.name.c_str(), static_cast<long long>(psg::models::CountTrainableParameters(*model.net)),
              absl::GetFlag(FLAGS_dataset).c_str(), static_cast<long long>(train_images),
              static_cast<long long>(data.test->size()),
              static_cast<long long>(steps_per_epoch), omp_get_max_threads());
  std::printf("precision: %s\n", psg::engine::PrecisionName(mo.precision));
  std::printf("%s\n", distributed.description.c_str());
  std::printf("optimizer: %s\n", training.optimizer.description.c_str());
  std::printf("%s\n", qat.description.c_str());
}

// Gradient-L1/L2 and Lipschitz regularization, as gradient hooks of the
// trainer; they must outlive its Run().
struct Regularizers {
  std::unique_ptr<psg::train::GradientNormRegularizer> gradient_norm;
  std::unique_ptr<psg::train::LipschitzRegularizer> lipschitz;
};

absl::Status AddRegularizers(const psg::engine::ParameterList& params, psg::train::Trainer* trainer,
                             Regularizers* regularizers) {
  const double l1 = absl::GetFlag(FLAGS_gradient_l1), l2 = absl::GetFlag(FLAGS_gradient_l2);
  if (l1 != 0.0 && l2 != 0.0) {
    return absl::InvalidArgumentError("give --gradient_l1 or --gradient_l2, not both");
  }
  if (l1 != 0.0 || l2 != 0.0) {
    const psg::train::GradientNorm norm = l1 != 0.0 ? psg::train::GradientNorm::kL1 : psg::train::GradientNorm::kL2;
    regularizers->gradient_norm = std::make_unique<psg::train::GradientNormRegularizer>(
        params, psg::train::GradientNormOptions{
                    .norm = norm,
                    .lambda = static_cast<float>(l1 != 0.0 ? l1 : l2),
                    .step = static_cast<float>(absl::GetFlag(FLAGS_gradient_l1_step))});
    psg::train::GradientNormRegularizer* gradient_norm = regularizers->gradient_norm.get();
    trainer->AddGradientHook(
        [gradient_norm](const std::function<void()>& recompute) { gradient_norm->Apply(recompute); });
    std::printf("gradient %s regularization: lambda %g, step %g\n", l1 != 0.0 ? "L1" : "L2",
                l1 != 0.0 ? l1 : l2, absl::GetFlag(FLAGS_gradient_l1_step));
  }
  if (absl::GetFlag(FLAGS_lipschitz) != 0.0) {
    regularizers->lipschitz = std::make_unique<psg::train::LipschitzRegularizer>(
        params, psg::train::LipschitzOptions{.beta = static_cast<float>(absl::GetFlag(FLAGS_lipschitz))});
    psg::train::LipschitzRegularizer* lipschitz = regularizers->lipschitz.get();
    trainer->AddGradientHook([lipschitz](const std::function<void()>&) { lipschitz->Apply(); });
    std::printf("Lipschitz regularization: beta %g\n", absl::GetFlag(FLAGS_lipschitz));
  }
  return absl::OkStatus();
}

// The final tables: accuracies, PSGD's diagnostics at the start and the end
// (`start_metrics`; empty for a resumed run) and L0's sparsity.
void PrintFinalTables(const std::string& model_name, const psg::train::RunSummary& summary,
                      const RunTraining& training,
                      const std::map<std::string, double>& start_metrics,
                      const std::string& output_dir) {
  const auto& r = summary.last;
  std::printf("\n| model | dataset | epochs | test acc | best test acc | train acc | img/s |\n"
              "|---|---|---|---|---|---|---|\n| %s | %s | %lld | %.2f %% | %.2f %% | %.2f %% | %.0f |\n",
              model_name.c_str(), absl::GetFlag(FLAGS_dataset).c_str(),
              static_cast<long long>(r.epoch), 100 * r.test_accuracy,
              100 * summary.best_test_accuracy, 100 * r.train_accuracy, r.train_images_per_second);
  if (training.optimizer.epoch_metrics) {
    std::printf("\n| PSGD diagnostic (qmse: quantization MSE at the bit-width) | start | end | start/end |\n"
                "|---|---|---|---|\n");
    for (const auto& [key, value] : training.optimizer.epoch_metrics()) {
      // A resumed run has no start values here: they are the "epoch": 0 line of metrics.jsonl.
      const auto it = start_metrics.find(key);
      if (it == start_metrics.end()) {
        std::printf("| %s | see metrics.jsonl | %.3g | |\n", key.c_str(), value);
      } else {
        std::printf("| %s | %.3g | %.3g | %.1f |\n", key.c_str(), it->second, value, it->second / value);
      }
    }
  }
  if (training.l0_gates) std::printf("%s", psg::pipeline::L0Summary(*training.l0_gates).c_str());
  std::printf("results: %s/result.json, per epoch: %s/metrics.jsonl\n", output_dir.c_str(),
              output_dir.c_str());
}

int Train(const psg::cli::DistributedFromFlags& distributed) {
  const std::string output_dir = UserPath(absl::GetFlag(FLAGS_output_dir));
  if (output_dir.empty()) return Fail("--output_dir is required");
  // Rank 0 alone writes there (the other ranks need not see it).
  if (distributed.rank == 0) {
    if (absl::Status s = psg::io::CheckWritableDirectory(output_dir); !s.ok()) return Fail(s.message());
  }
  psg::train::InstallStopSignalHandlers();
  psg::cli::SetUpThreads();
  auto data = psg::cli::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  // The progress lines say "test"; say once what that is.
  if ((*data)->evaluation_set != "test") std::printf("evaluating on %s\n", (*data)->evaluation_set.c_str());
  auto model_options = psg::cli::ModelOptionsFromFlags(**data);
  if (!model_options.ok()) return Fail(model_options.status().message());
  absl::StatusOr<psg::cli::QatFromFlags> qat = psg::cli::ReadQatFlags();
  if (!qat.ok()) return Fail(qat.status().message());
  try {
    const absl::StatusOr<psg::models::ModelOptions> mo =
        RunModelOptions(*model_options, *qat, distributed);
    if (!mo.ok()) return Fail(mo.status().message());
    RunModel model;
    if (absl::Status s = BuildRunModel(*mo, &model); !s.ok()) return Fail(s.message());
    RunTraining training;
    if (absl::Status s = BuildRunTraining(*qat, model, **data, &training); !s.ok()) {
      return Fail(s.message());
    }
    Json flags_json = FlagsJson(training.optimizer.json, qat->json, distributed.json);
    flags_json["evaluated_on"] = (*data)->evaluation_set;
    const psg::train::TrainerOptions to =
        TrainerOptionsFromFlags(output_dir, flags_json, mo->name, distributed);

    const int64_t train_images = to.max_train_images > 0
                                     ? std::min(to.max_train_images, (*data)->train->size())
                                     : (*data)->train->size();
    const int64_t steps_per_epoch = psg::data::BatchesPerEpoch(
        train_images, to.batch_size, to.drop_last, distributed.ranks);
    if (steps_per_epoch == 0) return Fail("fewer training images than one batch");
    if (absl::Status s = psg::cli::CheckPruneSchedule(training.prune, steps_per_epoch * to.epochs);
        !s.ok()) {
      return Fail(s.message());
    }
    auto schedule = psg::cli::ScheduleFromFlags(steps_per_epoch, to.epochs);
    if (!schedule.ok()) return Fail(schedule.status().message());
    PrintRunDescription(*mo, model, **data, train_images, steps_per_epoch, distributed, training,
                        *qat);

    const psg::cli::OptimizerFromFlags& optimizer = training.optimizer;
    // Diagnostics of the starting weights, for the final start/end table.
    const std::map<std::string, double> start_metrics =
        optimizer.epoch_metrics && to.resume_from.empty() ? optimizer.epoch_metrics()
                                                           : std::map<std::string, double>();
    psg::train::Trainer trainer(to, *model.net, *optimizer.optimizer, **schedule, **data);
    if (optimizer.epoch_metrics) trainer.set_epoch_metrics(optimizer.epoch_metrics);
    psg::cli::AttachWeightQuantizer(training.weight_quantizer.get(), &trainer);
    psg::pipeline::AttachL0Gates(training.l0_gates.get(), *optimizer.optimizer, &trainer);  // inside QAT's
    Regularizers regularizers;
    if (absl::Status s = AddRegularizers(model.params, &trainer, &regularizers); !s.ok()) {
      return Fail(s.message());
    }
    absl::StatusOr<psg::train::RunSummary> summary = trainer.Run();
    if (!summary.ok()) return Fail(summary.status().message());
    if (summary->stopped_early) return 0;
    if (distributed.rank != 0) return 0;  // rank 0 writes the results
    // A run that had finished keeps its result.json (written when it ended).
    const std::string result = output_dir + "/result.json";
    if (!summary->finished_before || !std::filesystem::exists(result)) {
      if (absl::Status s = WriteResult(result, flags_json, *summary, training.l0_gates.get()); !s.ok()) {
        return Fail(s.message());
      }
    }
    PrintFinalTables(mo->name, *summary, training, start_metrics, output_dir);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return 0;
}

int Run() {
  absl::StatusOr<psg::cli::DistributedFromFlags> distributed =
      psg::cli::StartDistributedFromFlags();
  if (!distributed.ok()) return Fail(distributed.status().message());
  const int status = Train(*distributed);
  // One rank's failure ends the job rather than leave the others waiting.
  if (status != 0 && distributed->mpi) distributed->mpi->Abort("training failed (error above)");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(argc, argv, "Trains a model of the psg-toolkit zoo.", Run);
}
