// L1-norm filter pruning (Li et al. 2017) of a trained checkpoint into a
// really smaller network: removes floor(ratio * width) of the internal
// channels of every basic block (prune/structured.h; residual streams keep
// their widths), builds the narrower model, and reports parameters,
// multiply-adds per image, test accuracy (without and, with
// --finetune_epochs, after fine-tuning) and eval-mode img/s, dense vs pruned,
// as result.json and result.md in --output_dir.
//
//   bazel run //experiments:structured_prune -- --checkpoint=runs/r20/last.safetensors
//       --model=resnet20 --ratio=0.5 --skip=layer3.0 --finetune_epochs=0
//
// The pruned model is saved as <output_dir>/pruned.safetensors (after
// fine-tuning, if any) with its block widths in the metadata
// ("block_mid_channels"); models::ModelOptions::block_mid_channels with those
// widths rebuilds it.
#include <omp.h>

#include <cstdio>
#include <map>
#include <string>
#include <functional>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/checkpoint_flag.h"
#include "cli/common_flags.h"
#include "cli/eval_images_flag.h"
#include "cli/model_loading.h"
#include "cli/output_dir_flag.h"
#include "engine/context.h"
#include "engine/graph.h"
#include "engine/lr_schedule.h"
#include "engine/optimizer.h"
#include "flags/ranges.h"
#include "io/files.h"
#include "io/json_writer.h"
#include "pipeline/filter_pruned_model.h"
#include "prune/structured.h"
#include "report/timing.h"
#include "train/batches.h"
#include "train/stop_signals.h"
#include "train/trainer.h"
#include "train/training_state.h"

using psg::flags::AtLeast;

ABSL_FLAG(double, ratio, 0.5, "fraction of each block's internal filters removed, in [0, 1)");
PSG_FLAG_RANGE(ratio, psg::flags::FromUpTo(0, 1));
ABSL_FLAG(std::vector<std::string>, skip, {}, "blocks left dense (sensitive layers), e.g. layer3.0");
ABSL_FLAG(int64_t, channel_multiple, 1,
          "round each block's kept width up to a multiple of this (16: oneDNN's AVX-512 channel block)");
PSG_FLAG_RANGE(channel_multiple, AtLeast(1));
ABSL_FLAG(int, finetune_epochs, 0, "epochs of SGD fine-tuning of the pruned model (0: none)");
PSG_FLAG_RANGE(finetune_epochs, AtLeast(0));
ABSL_FLAG(double, lr, 0.01, "fine-tuning learning rate (constant; momentum 0.9, weight decay 5e-4)");
PSG_FLAG_RANGE(lr, psg::flags::GreaterThan(0));
ABSL_FLAG(int, timing_passes, 20,
          "timed forward passes of each network, interleaved (after 3 warm-up passes); the median is reported");
PSG_FLAG_RANGE(timing_passes, AtLeast(1));
ABSL_FLAG(int64_t, finetune_max_images, 0, "fine-tune on the first N training images only (0: all; smoke runs)");
PSG_FLAG_RANGE(finetune_max_images, AtLeast(0));
ABSL_FLAG(bool, save_checkpoint, true, "save the pruned model as <output_dir>/pruned.safetensors");

namespace {

using psg::engine::Tensor;
using psg::cli::Fail;
using psg::io::Json;

struct Measured {
  psg::prune::GraphCost cost;
  double accuracy = 0, images_per_second = 0;
  int64_t images = 0;  // evaluated
};

psg::prune::GraphCost Cost(psg::engine::Layer& model, const std::string& name) {
  psg::engine::Graph graph;
  model.Export(&graph, graph.AddInput("input"));
  return psg::prune::CountCost(graph, psg::models::InputDims(name));
}

int Run() {
  const absl::StatusOr<std::string> checkpoint_path =
      psg::cli::ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
  if (!checkpoint_path.ok()) return Fail(checkpoint_path.status().message());
  const std::string& checkpoint = *checkpoint_path;
  const std::string output_dir =
      psg::cli::OutputDirFor(absl::GetFlag(FLAGS_output_dir), checkpoint, "structured_prune");
  if (absl::Status s = psg::io::CheckWritableDirectory(output_dir); !s.ok()) return Fail(s.message());
  psg::train::InstallStopSignalHandlers();  // fine-tuning stops cleanly
  psg::cli::SetUpThreads();
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  const int workers = absl::GetFlag(FLAGS_workers);
  const int64_t max_images = absl::GetFlag(FLAGS_max_eval_images);
  const int epochs = absl::GetFlag(FLAGS_finetune_epochs);
  auto data = psg::cli::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto options = psg::cli::ModelOptionsFromFlags(**data);
  if (!options.ok()) return Fail(options.status().message());
  auto dense = psg::cli::LoadModel(*options, checkpoint);
  if (!dense.ok()) return Fail(dense.status().message());
  try {
    const psg::prune::FilterPruningOptions pruning{absl::GetFlag(FLAGS_ratio),
                                                   absl::GetFlag(FLAGS_skip),
                                                   absl::GetFlag(FLAGS_channel_multiple)};
    psg::pipeline::PrunedModel pruned = psg::pipeline::PruneFilters(*options, **dense, pruning);

    // One full test batch for timing.
    const psg::data::SampleShape shape = (*data)->test->sample_shape();
    absl::StatusOr<std::vector<float>> first_batch =
        psg::train::FirstFullBatch(*(*data)->test, batch_size, workers);
    if (!first_batch.ok()) return Fail(first_batch.status().message());
    const Tensor x = Tensor::View(first_batch->data(),
                                  {batch_size, shape.channels, shape.height, shape.width});
    const int passes = absl::GetFlag(FLAGS_timing_passes);
    const auto measure = [&](psg::engine::Layer& model) -> absl::StatusOr<Measured> {
      Measured m;
      m.cost = Cost(model, options->name);
      auto eval = psg::train::Evaluate(model, *(*data)->test, batch_size, max_images, workers);
      if (!eval.ok()) return eval.status();
      m.accuracy = eval->accuracy;
      m.images = eval->images;
      return m;
    };
    auto dense_m = measure(**dense);
    if (!dense_m.ok()) return Fail(dense_m.status().message());
    auto pruned_m = measure(*pruned.model);
    if (!pruned_m.ok()) return Fail(pruned_m.status().message());
    // Interleaved, so that the shared machine's load hits both alike.
    const auto forward = [&](psg::engine::Layer* model) {
      return [model, &x] {
        model->Forward(x, psg::engine::Mode::kEval);
        psg::engine::Stream().wait();
      };
    };
    const std::vector<double> seconds = psg::report::InterleavedMedianSeconds(
        passes, {forward(dense->get()), forward(pruned.model.get())});
    dense_m->images_per_second = batch_size / seconds[0];
    pruned_m->images_per_second = batch_size / seconds[1];

    const Json widths(pruned.plan.Widths());
    const std::map<std::string, std::string> metadata = {
        {psg::train::kModelMetadata, options->name}, {"block_mid_channels", psg::io::JsonCompact(widths)},
        {"pruned_from", checkpoint}, {"ratio", absl::StrCat(pruning.ratio)}};
    double finetuned_accuracy = -1;
    if (epochs > 0) {
      psg::engine::ParameterList params;
      pruned.model->CollectParameters(&params);
      psg::engine::Sgd sgd(psg::engine::TrainableOnly(params),
                           {.momentum = 0.9f, .weight_decay = 5e-4f});
      const auto schedule = psg::engine::Constant(static_cast<float>(absl::GetFlag(FLAGS_lr)));
      psg::train::TrainerOptions t;
      t.epochs = epochs;
      t.batch_size = batch_size;
      t.loader_workers = workers;
      t.max_eval_images = max_images;
      t.max_train_images = absl::GetFlag(FLAGS_finetune_max_images);
      t.output_dir = output_dir + "/finetune";
      t.metadata = metadata;
      psg::train::Trainer trainer(t, *pruned.model, sgd, *schedule, **data);
      auto summary = trainer.Run();
      if (!summary.ok()) return Fail(summary.status().message());
      if (summary->stopped_early) return 0;  // by a signal: the trainer said where it stopped
      finetuned_accuracy = summary->last.test_accuracy;
    }
    const std::string saved = output_dir + "/pruned.safetensors";
    if (absl::GetFlag(FLAGS_save_checkpoint)) {
      psg::engine::ParameterList params;
      pruned.model->CollectParameters(&params);
      const absl::Status status = psg::train::SaveTrainingState(saved, params, nullptr, {}, metadata);
      if (!status.ok()) return Fail(status.message());
    }

    const Measured& d = *dense_m;
    const Measured& p = *pruned_m;
    const Json json = {{"checkpoint", checkpoint},
                       {"model", options->name},
                       {"dataset", absl::GetFlag(FLAGS_dataset)},
                       {"ratio", pruning.ratio},
                       {"channel_multiple", pruning.channel_multiple},
                       {"skip", pruning.skip},
                       {"block_mid_channels", widths},
                       {"removed_filters", pruned.plan.RemovedChannels()},
                       {"dense_parameters", d.cost.parameters},
                       {"pruned_parameters", p.cost.parameters},
                       {"dense_multiply_adds", d.cost.multiply_adds},
                       {"pruned_multiply_adds", p.cost.multiply_adds},
                       {"test_images", d.images},
                       {"dense_accuracy", d.accuracy},
                       {"pruned_accuracy", p.accuracy},
                       {"finetune_epochs", epochs},
                       {"finetune_lr", absl::GetFlag(FLAGS_lr)},
                       {"finetuned_accuracy", epochs > 0 ? Json(finetuned_accuracy) : Json()},
                       {"batch_size", batch_size},
                       {"threads", omp_get_max_threads()},
                       {"timing_passes", passes},
                       {"dense_images_per_second", d.images_per_second},
                       {"pruned_images_per_second", p.images_per_second},
                       {"speedup", p.images_per_second / d.images_per_second}};
    const auto pct = [](double a) { return absl::StrFormat("%.2f %%", 100 * a); };
    const std::string markdown = absl::StrCat(
        absl::StrFormat("## Filter pruning of %s (ratio %g%s%s)\n\n", options->name, pruning.ratio,
                        pruning.skip.empty() ? "" : ", skip " + absl::StrJoin(pruning.skip, ","),
                        pruning.channel_multiple == 1
                            ? ""
                            : absl::StrCat(", widths rounded up to a multiple of ",
                                           pruning.channel_multiple)),
        "| network | parameters | multiply-adds / image | test acc | fine-tuned acc | img/s |\n"
        "|---|---|---|---|---|---|\n",
        absl::StrFormat("| dense | %d | %.2f M | %s | - | %.0f |\n", d.cost.parameters,
                        d.cost.multiply_adds / 1e6, pct(d.accuracy), d.images_per_second),
        absl::StrFormat("| pruned | %d (%.1f %% fewer) | %.2f M (%.1f %% fewer) | %s | %s | %.0f "
                        "(%.2fx) |\n",
                        p.cost.parameters, 100.0 * (d.cost.parameters - p.cost.parameters) / d.cost.parameters,
                        p.cost.multiply_adds / 1e6,
                        100.0 * (d.cost.multiply_adds - p.cost.multiply_adds) / d.cost.multiply_adds,
                        pct(p.accuracy),
                        epochs > 0 ? absl::StrCat(pct(finetuned_accuracy), " (", epochs, " ep, lr ",
                                                  absl::GetFlag(FLAGS_lr), ")")
                                   : std::string("-"),
                        p.images_per_second, p.images_per_second / d.images_per_second),
        absl::StrFormat("\n(%d test images; block widths %s; img/s: batch %d, eval mode, %d "
                        "threads, median of %d interleaved passes after 3 warm-up)\n",
                        d.images, psg::io::JsonCompact(widths),
                        batch_size, omp_get_max_threads(), passes));
    const absl::Status written = psg::cli::WriteResultFiles(
        output_dir, {{"result.json", psg::io::JsonText(json)}, {"result.md", markdown}});
    if (!written.ok()) return Fail(written.message());
    std::printf("\n%s\nresults: %s/result.{json,md}\n", markdown.c_str(), output_dir.c_str());
    if (absl::GetFlag(FLAGS_save_checkpoint)) std::printf("pruned model: %s\n", saved.c_str());
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(
      argc, argv, "L1-norm filter pruning of a checkpoint into a smaller network.", Run);
}
