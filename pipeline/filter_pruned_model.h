// L1-norm filter pruning of a zoo model into a real, narrower zoo model:
// plans on the model's inference graph (prune/structured.h), builds the model
// with the plan's block widths (models::ModelOptions::block_mid_channels) and
// loads the sliced parameters into it. CIFAR ResNets and ResNet-18 (the
// models whose prunable groups are basic blocks' internal channels).
//
//   PrunedModel p = PruneFilters({.name = "resnet20"}, *dense, {.ratio = 0.5, .skip = {"layer3.0"}});
//   p.model->Forward(images, engine::Mode::kEval);   // p.options rebuilds it
#ifndef PSG_PIPELINE_FILTER_PRUNED_MODEL_H_
#define PSG_PIPELINE_FILTER_PRUNED_MODEL_H_

#include <map>
#include <memory>
#include <string>

#include "engine/layer.h"
#include "engine/sequential.h"
#include "models/zoo.h"
#include "prune/structured.h"

namespace psg::pipeline {

struct PrunedModel {
  prune::StructuredPlan plan;
  models::ModelOptions options;  // the dense options with the plan's block widths
  std::unique_ptr<engine::Sequential> model;
};

// `dense` must be the model `options` builds (its parameters are read, not
// changed). Throws std::invalid_argument for a bad request (see
// prune::PlanFilterPruning) or a model without basic blocks.
PrunedModel PruneFilters(const models::ModelOptions& options, engine::Layer& dense,
                         const prune::FilterPruningOptions& pruning);

}  // namespace psg::pipeline

#endif  // PSG_PIPELINE_FILTER_PRUNED_MODEL_H_
