// Magnitude pruning of a trained checkpoint without fine-tuning (the paper's
// pruning protocol): the dense test accuracy, then the accuracy at each
// sparsity for each scope (layer-wise: the same sparsity in every covered
// tensor; global: one threshold), with the per-layer sparsities. Covered:
// every convolution weight, first/last layer with --first_last; BN never.
//
//   bazel run //experiments:prune_sweep -- --checkpoint=runs/r20/last.safetensors
//       --model=resnet20 --sparsity=0.5,0.7,0.8,0.9,0.95 --scope=layer,global --first_last=false
//
// Writes <output_dir>/prune_sweep.json and prune_sweep.md (default output_dir:
// <checkpoint dir>/prune_sweep).
#include <omp.h>

#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/checkpoint_flag.h"
#include "cli/common_flags.h"
#include "cli/eval_images_flag.h"
#include "cli/model_loading.h"
#include "cli/output_dir_flag.h"
#include "cli/prune_flags.h"
#include "engine/parameter_snapshot.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"
#include "io/files.h"
#include "io/json_writer.h"
#include "prune/magnitude.h"
#include "report/svg_plot.h"
#include "data/datasets.h"
#include "train/trainer.h"

ABSL_FLAG(std::vector<std::string>, sparsity, std::vector<std::string>({"0.5", "0.7", "0.8", "0.9", "0.95"}),
          "fractions of the covered weights pruned, each in [0, 1)");
ABSL_FLAG(std::vector<std::string>, scope, std::vector<std::string>({"layer", "global"}),
          "layer (the same sparsity per tensor) and/or global (one threshold)");
ABSL_FLAG(bool, first_last, false, "also prune the first convolution and the last linear layer");

namespace {

using psg::cli::ExistingCheckpoint;
using psg::io::Json;
using psg::cli::Fail;
using psg::cli::OutputDirFor;
using psg::cli::WriteResultFiles;
using psg::prune::LayerSparsity;
using psg::prune::Scope;

struct Outcome {
  Scope scope = Scope::kLayer;
  double sparsity = 0;  // 0: the dense model
  psg::train::Evaluation eval;
  std::vector<LayerSparsity> layers;
  std::string label() const {
    return sparsity == 0 ? std::string("dense") : absl::StrFormat("%s %g", psg::prune::ScopeName(scope), sparsity);
  }
};

// Test accuracy vs sparsity, one series per scope starting from the dense model.
std::string AccuracyPlot(const std::vector<Outcome>& outcomes) {
  std::map<std::string, psg::report::Series> by_scope;
  for (const Outcome& o : outcomes) {
    if (o.sparsity == 0) continue;
    psg::report::Series& s = by_scope[psg::prune::ScopeName(o.scope)];
    if (s.x.empty()) {
      s.name = absl::StrCat(psg::prune::ScopeName(o.scope), " magnitude");
      s.x.push_back(0);
      s.y.push_back(100 * outcomes.front().eval.accuracy);
    }
    s.x.push_back(o.sparsity);
    s.y.push_back(100 * o.eval.accuracy);
  }
  std::vector<psg::report::Series> series;
  for (auto& [scope, s] : by_scope) series.push_back(std::move(s));
  return psg::report::LinePlotSvg(
      series, {.title = "Magnitude pruning without fine-tuning", .x_label = "sparsity",
               .y_label = "test accuracy (%)"});
}

Json ResultJson(const Json& flags, const std::vector<Outcome>& outcomes) {
  Json results = Json::array();
  for (const Outcome& o : outcomes) {
    const LayerSparsity total = psg::prune::Total(o.layers);
    Json layers = Json::array();
    for (const LayerSparsity& l : o.layers) {
      layers.push_back({{"name", l.name}, {"size", l.size}, {"pruned", l.pruned}, {"sparsity", l.sparsity}});
    }
    results.push_back({{"scope", o.sparsity == 0 ? "dense" : psg::prune::ScopeName(o.scope)},
                       {"sparsity", o.sparsity},
                       {"achieved_sparsity", total.sparsity},
                       {"pruned", total.pruned},
                       {"covered", total.size},
                       {"test_accuracy", o.eval.accuracy},
                       {"test_loss", o.eval.loss},
                       {"layers", layers}});
  }
  return {{"flags", flags}, {"results", results}};
}

// Accuracy by sparsity (rows) and scope (columns), then each pruned setting's
// per-layer sparsities.
std::string ResultTable(const std::string& evaluation_set, const std::vector<double>& sparsities,
                        const std::vector<Scope>& scopes, const std::vector<Outcome>& outcomes) {
  const double dense = outcomes.front().eval.accuracy;
  std::string md = absl::StrFormat("Evaluated on: %s\n\nDense accuracy: %.2f %%\n\n| sparsity |",
                                   evaluation_set, 100 * dense);
  std::string rule = "|---|";
  for (Scope s : scopes) {
    absl::StrAppend(&md, " ", psg::prune::ScopeName(s), " accuracy | change vs dense |");
    rule += "---|---|";
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  for (size_t i = 0; i < sparsities.size(); ++i) {
    absl::StrAppendFormat(&md, "| %g |", sparsities[i]);
    for (size_t k = 0; k < scopes.size(); ++k) {
      const Outcome& o = outcomes[1 + k * sparsities.size() + i];
      absl::StrAppendFormat(&md, " %.2f %% | %+.2f |", 100 * o.eval.accuracy, 100 * (o.eval.accuracy - dense));
    }
    md += "\n";
  }
  md += "\nPer-layer sparsity:\n\n| layer | size |";
  rule = "|---|---|";
  for (size_t i = 1; i < outcomes.size(); ++i) {
    absl::StrAppend(&md, " ", outcomes[i].label(), " |");
    rule += "---|";
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  for (size_t j = 0; j < outcomes[1].layers.size(); ++j) {
    absl::StrAppendFormat(&md, "| %s | %d |", outcomes[1].layers[j].name, outcomes[1].layers[j].size);
    for (size_t i = 1; i < outcomes.size(); ++i) absl::StrAppendFormat(&md, " %.3f |", outcomes[i].layers[j].sparsity);
    md += "\n";
  }
  return md;
}

int Run() {
  const absl::StatusOr<std::string> checkpoint_path = ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
  if (!checkpoint_path.ok()) return Fail(checkpoint_path.status().message());
  const std::string& checkpoint = *checkpoint_path;
  const std::string output_dir = OutputDirFor(absl::GetFlag(FLAGS_output_dir), checkpoint, "prune_sweep");
  if (absl::Status s = psg::io::CheckWritableDirectory(output_dir); !s.ok()) return Fail(s.message());
  psg::cli::SetUpThreads();

  const absl::StatusOr<std::vector<double>> parsed = psg::flags::ParseNumbers(
      "sparsity", absl::GetFlag(FLAGS_sparsity), psg::flags::Range{0, 1, true, true});
  if (!parsed.ok()) return Fail(parsed.status().message());
  const std::vector<double>& sparsities = *parsed;
  if (sparsities.empty()) return Fail("--sparsity: give at least one value");
  std::vector<std::string> scope_choices;
  for (const auto& [name, unused] : psg::prune::kScopeNames) scope_choices.emplace_back(name);
  const absl::StatusOr<std::vector<std::string>> scope_names =
      psg::flags::ParseChoices("scope", absl::GetFlag(FLAGS_scope), scope_choices);
  if (!scope_names.ok()) return Fail(scope_names.status().message());
  std::vector<Scope> scopes;
  for (const std::string& name : *scope_names) {
    Scope scope;
    std::string unused_error;  // ParseChoices has checked the name
    AbslParseFlag(name, &scope, &unused_error);
    scopes.push_back(scope);
  }
  if (scopes.empty()) return Fail("--scope: give layer, global or both");

  auto data = psg::cli::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto model_options = psg::cli::ModelOptionsFromFlags(**data);
  if (!model_options.ok()) return Fail(model_options.status().message());
  const psg::models::ModelOptions& mo = *model_options;
  auto model = psg::cli::LoadModel(mo, checkpoint);
  if (!model.ok()) return Fail(model.status().message());
  psg::engine::ParameterList params;
  (*model)->CollectParameters(&params);
  const psg::engine::WeightSnapshot dense(params);

  const bool first_last = absl::GetFlag(FLAGS_first_last);
  std::vector<Outcome> outcomes = {Outcome{}};
  for (Scope scope : scopes) {
    for (double s : sparsities) outcomes.push_back({scope, s, {}, {}});
  }
  for (Outcome& o : outcomes) {
    if (o.sparsity > 0) o.layers = psg::prune::PruneByMagnitude(params, {o.sparsity, o.scope, first_last});
    auto eval = psg::train::Evaluate(**model, *(*data)->test, absl::GetFlag(FLAGS_batch_size),
                                     absl::GetFlag(FLAGS_max_eval_images), absl::GetFlag(FLAGS_workers));
    dense.Restore();
    if (!eval.ok()) return Fail(eval.status().message());
    o.eval = *eval;
    std::printf("%-12s test accuracy %.2f %%  (loss %.4f, %lld images, %.4f of covered weights pruned)\n",
                o.label().c_str(), 100 * o.eval.accuracy, o.eval.loss, static_cast<long long>(o.eval.images),
                psg::prune::Total(o.layers).sparsity);
    std::fflush(stdout);
  }

  const Json flags = {{"checkpoint", checkpoint},
                      {"model", mo.name},
                      {"dataset", absl::GetFlag(FLAGS_dataset)},
                      {"evaluated_on", (*data)->evaluation_set},
                      {"first_last", first_last},
                      {"max_eval_images", absl::GetFlag(FLAGS_max_eval_images)},
                      {"threads", omp_get_max_threads()}};
  const std::string table = ResultTable((*data)->evaluation_set, sparsities, scopes, outcomes);
  const absl::Status written = WriteResultFiles(
      output_dir, {{"prune_sweep.json", psg::io::JsonText(ResultJson(flags, outcomes))},
                   {"prune_sweep.md", table},
                   {"accuracy.svg", AccuracyPlot(outcomes)}});
  if (!written.ok()) return Fail(written.message());
  std::printf("\n%s\nwrote %s/prune_sweep.json, prune_sweep.md and accuracy.svg\n", table.c_str(),
              output_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(
      argc, argv, "Magnitude pruning of a checkpoint without fine-tuning: accuracy per sparsity.", Run);
}
