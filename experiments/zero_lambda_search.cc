#include "experiments/zero_lambda_search.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"
#include "report/result_json.h"

ABSL_FLAG(std::string, zero_lambdas, "50,150,500",
          "lambda_s candidates of PSGD towards zero; several: chosen per sparsity on held-out "
          "training images (the released search), one: used at every sparsity");
ABSL_FLAG(std::string, sparsities, "0.5,0.7,0.8,0.9", "sparsities of the magnitude sweep");
ABSL_FLAG(psg::prune::Scope, scope, psg::prune::Scope::kGlobal, "magnitude pruning scope: global or layer");

namespace psg::experiments {
namespace {

std::vector<double> NumbersFromFlag(const std::string& list, const char* flag, flags::Range range) {
  std::vector<double> numbers =
      OrThrow(flags::ParseNumbers(flag, flags::SplitList(list), range), absl::StrCat("--", flag));
  if (numbers.empty()) throw std::invalid_argument(absl::StrCat("--", flag, ": no value given"));
  return numbers;
}

std::string Key(double x) { return absl::StrFormat("%g", x); }

}  // namespace

std::map<double, double> ChooseLambdas(const AccuracyByLambda& accuracy) {
  std::map<double, double> chosen, best;
  for (const auto& [lambda, by_sparsity] : accuracy) {  // ascending lambda
    for (const auto& [sparsity, a] : by_sparsity) {
      if (!best.contains(sparsity) || a > best[sparsity]) {
        best[sparsity] = a;
        chosen[sparsity] = lambda;
      }
    }
  }
  return chosen;
}

std::vector<double> ZeroLambdasFromFlag() {
  return NumbersFromFlag(absl::GetFlag(FLAGS_zero_lambdas), "zero_lambdas",
                         flags::GreaterThan(0));
}

std::vector<double> SparsitiesFromFlag() {
  return NumbersFromFlag(absl::GetFlag(FLAGS_sparsities), "sparsities",
                         flags::Range{0, 1, /*min_open=*/true, /*max_open=*/true});
}

std::string SparsityList(const std::vector<double>& sparsities) {
  std::string list;
  for (double s : sparsities) {
    char text[32];
    const std::to_chars_result end = std::to_chars(text, text + sizeof(text), s);
    absl::StrAppend(&list, list.empty() ? "" : ",", absl::string_view(text, end.ptr - text));
  }
  return list;
}

std::string ZeroStageName(double lambda, bool held_out) {
  return absl::StrCat("psgd_zero_lambda", lambda, held_out ? "_holdout" : "");
}

std::map<double, double> ReadPruneSweep(const std::string& stage_dir) {
  const std::string path = stage_dir + "/prune_sweep.json";
  const io::Json json = OrThrow(report::ReadJsonFile(path), path);
  std::map<double, double> accuracy;
  for (const io::Json& row : *OrThrow(report::ArrayAt(json, "results"), path)) {
    accuracy[OrThrow(report::NumberAt(row, "sparsity"), path)] =
        OrThrow(report::NumberAt(row, "test_accuracy"), path);
  }
  return accuracy;
}

std::map<double, double> PruneSweepStage(PaperExperiment& e, const std::string& stage,
                                         std::vector<std::string> args,
                                         const std::vector<double>& sparsities) {
  args.push_back("--sparsity=" + SparsityList(sparsities));
  const auto covers_every_sparsity = [&](const std::map<double, double>& accuracy) {
    return std::all_of(sparsities.begin(), sparsities.end(), [&](double s) { return accuracy.contains(s); });
  };
  std::map<double, double> accuracy =
      ReadPruneSweep(e.protocol().Stage(stage, "prune_sweep", args, "prune_sweep.json"));
  if (covers_every_sparsity(accuracy)) return accuracy;
  std::printf("== stage %s: done before for other sparsities; running it again\n", stage.c_str());
  e.protocol().Redo(stage);
  accuracy = ReadPruneSweep(e.protocol().Stage(stage, "prune_sweep", args, "prune_sweep.json"));
  if (!covers_every_sparsity(accuracy)) {
    throw std::runtime_error(
        absl::StrCat("stage '", stage, "': prune_sweep.json lacks a sparsity of ", SparsityList(sparsities)));
  }
  return accuracy;
}

ZeroLambdaSearch SearchZeroLambda(PaperExperiment& e, const std::vector<double>& lambdas,
                                  const std::vector<double>& sparsities, const std::string& scope) {
  ZeroLambdaSearch search;
  search.holdout_images = e.recipe().holdout_images;
  const std::string holdout = absl::StrCat("--holdout_images=", search.holdout_images);
  for (double lambda : lambdas) {
    const std::string stage = ZeroStageName(lambda, /*held_out=*/true);
    const std::string dir = e.SharedPsgdStage(
        stage, {"--psg_target=zero", absl::StrCat("--psg_lambda=", lambda), holdout});
    search.stages[lambda] = dir;
    std::vector<std::string> args = {"--scope=" + scope, holdout,
                                     "--checkpoint=" + dir + "/last.safetensors"};
    args.insert(args.end(), e.recipe().eval.begin(), e.recipe().eval.end());
    search.accuracy[lambda] = PruneSweepStage(e, "prune_sweep_" + stage, args, sparsities);
  }
  search.chosen = ChooseLambdas(search.accuracy);
  return search;
}

io::Json SearchJson(const ZeroLambdaSearch& search) {
  io::Json json = {{"holdout_images", search.holdout_images}};
  for (const auto& [lambda, by_sparsity] : search.accuracy) {
    for (const auto& [sparsity, a] : by_sparsity) json["accuracy"][Key(lambda)][Key(sparsity)] = a;
  }
  for (const auto& [sparsity, lambda] : search.chosen) json["chosen"][Key(sparsity)] = lambda;
  return json;
}

std::string SearchMarkdown(const ZeroLambdaSearch& search) {
  std::string md = absl::StrFormat(
      "Accuracy (%%) on %d training images held out from PSGD training, after magnitude "
      "pruning without fine-tuning; **bold**: the lambda_s chosen at that sparsity.\n\n"
      "| sparsity |",
      search.holdout_images);
  std::string rule = "|---|";
  for (const auto& entry : search.accuracy) {
    absl::StrAppend(&md, " lambda_s ", Key(entry.first), " |");
    absl::StrAppend(&rule, "---|");
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  for (const auto& [sparsity, chosen] : search.chosen) {
    absl::StrAppend(&md, "| ", sparsity == 0 ? "0 (dense)" : Key(sparsity), " |");
    for (const auto& [lambda, by_sparsity] : search.accuracy) {
      const std::string cell = absl::StrFormat("%.2f", 100 * by_sparsity.at(sparsity));
      absl::StrAppend(&md, " ", lambda == chosen ? "**" + cell + "**" : cell, " |");
    }
    absl::StrAppend(&md, "\n");
  }
  return md;
}

}  // namespace psg::experiments
