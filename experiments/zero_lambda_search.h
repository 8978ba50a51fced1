// The released hyper-parameter search (PSG-pytorch hyperparmeter_search.py)
// for PSGD towards zero: lambda_s chosen per sparsity on training images held
// out from training, never on the test set. Shared by //experiments:pruning,
// which trains its PSGD-zero rows with the chosen values, and
// //experiments:lambda_search, which runs the search alone.
//
//   ZeroLambdaSearch search = SearchZeroLambda(e, {50, 150, 500}, {0.5, 0.9}, "global");
//   double lambda = search.chosen.at(0.9);
//   e.WriteResults({{"search", SearchJson(search)}}, SearchMarkdown(search));
//
// Each candidate lambda: a PSGD stage towards zero from the SGD checkpoint
// with the recipe's held-out images (Recipe::holdout_images) left out of
// training (the SGD checkpoint saw them, as the released ResNet82.pth did),
// magnitude-pruned without fine-tuning at each sparsity and evaluated on the
// held-out images. Per sparsity, the candidate with the best held-out
// accuracy wins.
#ifndef PSG_EXPERIMENTS_ZERO_LAMBDA_SEARCH_H_
#define PSG_EXPERIMENTS_ZERO_LAMBDA_SEARCH_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "experiments/paper_experiment.h"
#include "io/json_writer.h"
#include "prune/magnitude.h"

// The candidates, and the magnitude sweep both targets share.
ABSL_DECLARE_FLAG(std::string, zero_lambdas);
ABSL_DECLARE_FLAG(std::string, sparsities);
ABSL_DECLARE_FLAG(psg::prune::Scope, scope);

namespace psg::experiments {

// Accuracy by lambda, then by sparsity (0: dense).
using AccuracyByLambda = std::map<double, std::map<double, double>>;

struct ZeroLambdaSearch {
  int64_t holdout_images = 0;
  AccuracyByLambda accuracy;          // held-out accuracy of each candidate's pruned model
  std::map<double, double> chosen;       // sparsity -> lambda
  std::map<double, std::string> stages;  // lambda -> its PSGD stage's directory
};

// Per sparsity, the lambda with the highest accuracy; a tie goes to the
// smaller lambda (the weaker pull towards zero).
std::map<double, double> ChooseLambdas(const AccuracyByLambda& accuracy);

// --zero_lambdas and --sparsities as numbers (a bad value throws, naming the flag).
std::vector<double> ZeroLambdasFromFlag();
std::vector<double> SparsitiesFromFlag();

// The search's stages, run (or found done) in `e`: the PSGD stages under
// --shared_dir, the sweeps in the run directory.
ZeroLambdaSearch SearchZeroLambda(PaperExperiment& e, const std::vector<double>& lambdas,
                                  const std::vector<double>& sparsities, const std::string& scope);

// {"holdout_images", "accuracy": {lambda: {sparsity: acc}}, "chosen": {sparsity: lambda}}.
io::Json SearchJson(const ZeroLambdaSearch& search);
// A table: a row per sparsity, a column per candidate, the chosen one marked.
std::string SearchMarkdown(const ZeroLambdaSearch& search);

// `sparsities` as prune_sweep's --sparsity list, each in the shortest form
// that reads back as the same double, so that its results are found again
// under the values asked for.
std::string SparsityList(const std::vector<double>& sparsities);

// Accuracy by requested sparsity (0: dense) from a prune_sweep stage's
// prune_sweep.json.
std::map<double, double> ReadPruneSweep(const std::string& stage_dir);

// Runs (or finds done) prune_sweep stage `stage` with `args` and
// --sparsity=`sparsities`; a stage done before for another list (the target
// rerun with more rows) runs again. Accuracy by sparsity, as ReadPruneSweep.
std::map<double, double> PruneSweepStage(PaperExperiment& e, const std::string& stage,
                                         std::vector<std::string> args,
                                         const std::vector<double>& sparsities);

// The shared PSGD-zero stage's name for `lambda` (held out: trained without
// the held-out images).
std::string ZeroStageName(double lambda, bool held_out);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_ZERO_LAMBDA_SEARCH_H_
