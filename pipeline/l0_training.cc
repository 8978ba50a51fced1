#include "pipeline/l0_training.h"

#include <vector>

#include "absl/strings/str_format.h"
#include "prune/magnitude.h"

namespace psg::pipeline {

void AttachL0Gates(prune::L0Gates* gates, const engine::Optimizer& optimizer, train::Trainer* trainer) {
  if (gates == nullptr) return;
  trainer->AddParameters(gates->parameters());
  trainer->AddStepHooks([gates, &optimizer](engine::Mode mode) { gates->BeforeForward(mode, optimizer.steps()); },
                        [gates](engine::Mode mode) {
                          if (mode == engine::Mode::kTrain) {
                            gates->AfterBackward();
                          } else {
                            gates->Restore();
                          }
                        });
}

std::string L0Summary(const prune::L0Gates& gates) {
  std::vector<prune::LayerSparsity> report = gates.Report();
  report.push_back(prune::Total(report));
  std::string out = "\n| L0 gates (evaluation gate 0: pruned) | weights | pruned | sparsity |\n|---|---|---|---|\n";
  for (const prune::LayerSparsity& l : report) {
    absl::StrAppendFormat(&out, "| %s | %d | %d | %.2f %% |\n", l.name, l.size, l.pruned, 100 * l.sparsity);
  }
  absl::StrAppendFormat(&out, "covered sparsity %.2f %%; expected nonzero gates while training %.0f of %d\n",
                        100 * report.back().sparsity, gates.ExpectedL0(), report.back().size);
  return out;
}

}  // namespace psg::pipeline
