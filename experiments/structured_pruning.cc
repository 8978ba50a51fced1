#include "experiments/structured_pruning.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/graph.h"

namespace psg::experiments {

PrunedModel PruneFilters(const models::ModelOptions& options, engine::Layer& dense,
                         const prune::FilterPruningOptions& pruning) {
  engine::Graph graph;
  dense.Export(&graph, graph.AddInput("input"));
  PrunedModel out;
  out.plan = prune::PlanFilterPruning(graph, pruning);
  out.options = options;
  out.options.block_mid_channels = out.plan.Widths();
  out.model = models::BuildModel(out.options);
  engine::ParameterList params;
  out.model->CollectParameters(&params);
  prune::CopyParameters(prune::ParametersByName(prune::ApplyPlan(graph, out.plan)), params);
  return out;
}

std::string WidthsJson(const std::map<std::string, int64_t>& widths) {
  std::vector<std::string> entries;
  for (const auto& [block, width] : widths) entries.push_back(absl::StrCat("\"", block, "\": ", width));
  return absl::StrCat("{", absl::StrJoin(entries, ", "), "}");
}

}  // namespace psg::experiments
