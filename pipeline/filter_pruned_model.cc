#include "pipeline/filter_pruned_model.h"

#include "engine/graph.h"

namespace psg::pipeline {

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

}  // namespace psg::pipeline
