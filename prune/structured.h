// Structured (filter) pruning by L1 norm (Li et al. 2017, "Pruning Filters for
// Efficient ConvNets") on an inference graph (engine/graph.h): whole output
// channels of convolutions are removed, with the matching input channels of
// the convolutions that read them, so the result is a smaller dense network
// rather than a sparse one.
//
//   engine::Graph graph;
//   model.Export(&graph, graph.AddInput("input"));
//   StructuredPlan plan = PlanFilterPruning(graph, {.ratio = 0.5, .skip = {"layer3.0"}});
//   engine::Graph pruned = ApplyPlan(graph, plan);        // sliced copies
//   std::map<std::string, engine::Tensor> params = ParametersByName(pruned);
//   // build the narrower model (models::ModelOptions::block_mid_channels =
//   // plan.Widths()), then CopyParameters(params, its parameter list)
//
// What is pruned: a channel group is a convolution (groups == 1) whose output
// reaches, through per-channel nodes only (BatchNorm, Relu, Pool), nothing but
// the inputs of other convolutions (groups == 1). Its filters are ranked by
// their L1 norm sum |W[o, :, :, :]|; floor(ratio * C) of the smallest are
// removed (fewer when the kept count is rounded up to channel_multiple; ties:
// the higher index goes first), with the BatchNorm channels
// after them and the consumers' input slices. In a ResNet basic block that is
// exactly Li et al.'s scheme: the block's first convolution (its internal
// channels) is pruned, never the second.
//
// Not supported (left alone, and rejected when asked for by name in `skip`):
// channels that reach a residual Add, a ZeroPadShortcut or a Linear layer.
// Channels flowing into a residual Add are tied across every convolution
// writing that residual stream (and, through identity shortcuts, across
// blocks); they would have to be chosen jointly for all of them, which this
// unit does not do, so the residual streams, the stem and every block's last
// convolution keep their widths. Grouped and depthwise convolutions are not
// pruned either.
//
// Parameter names follow the engine's layers: "<node>.weight" and
// "<node>.bias" for Conv and Linear, and "<node>.weight", ".bias",
// ".running_mean", ".running_var" for BatchNorm (gamma, beta, statistics).
#ifndef PSG_PRUNE_STRUCTURED_H_
#define PSG_PRUNE_STRUCTURED_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/parameter.h"
#include "engine/tensor.h"

namespace psg::prune {

struct FilterPruningOptions {
  // Fraction of each group's filters removed, in [0, 1).
  double ratio = 0.5;
  // Groups left dense (sensitive layers), by block name ("layer3.0": the
  // pruned convolution's name up to its last '.') or by convolution name
  // ("layer3.0.conv1"). A name matching no prunable group is rejected.
  std::vector<std::string> skip;
  // Kept counts rounded up to a multiple of this (at most the full width),
  // e.g. 16: oneDNN's AVX-512 kernels block channels by 16, so other widths
  // pay for padding and extra reorders. 1: no rounding.
  int64_t channel_multiple = 1;
};

// One prunable channel group and its decision.
struct FilterGroup {
  std::string block;                  // "layer1.0"
  std::string conv;                   // whose filters go: "layer1.0.conv1"
  std::vector<std::string> channel_ops;  // per-channel nodes after it: "layer1.0.bn1"
  std::vector<std::string> consumers;    // convolutions reading it: "layer1.0.conv2"
  int64_t channels = 0;               // before pruning
  bool skipped = false;               // by FilterPruningOptions::skip (all channels kept)
  std::vector<double> l1_norms;       // per filter, before pruning
  std::vector<int64_t> kept;          // ascending channel indices
};

struct StructuredPlan {
  std::vector<FilterGroup> groups;  // in graph order

  // Kept width per block name (every group, skipped ones at full width):
  // the narrower model's models::ModelOptions::block_mid_channels.
  std::map<std::string, int64_t> Widths() const;
  // Filters removed, over all groups.
  int64_t RemovedChannels() const;
};

// Plans L1-norm filter pruning of `graph`'s prunable groups (see above).
// Throws std::invalid_argument for a ratio outside [0, 1), a channel_multiple
// below 1, and for a skip name
// that names no prunable group (saying why when it names a node whose
// channels are not prunable, e.g. ones feeding a residual Add).
StructuredPlan PlanFilterPruning(const engine::Graph& graph, const FilterPruningOptions& options);

// The graph with every group of `plan` sliced to its kept channels: new plain
// tensors for the pruned convolutions, their BatchNorms and the consumers
// (other nodes keep their handles), channel counts updated. The plan must
// come from this graph (checked by names and widths).
engine::Graph ApplyPlan(const engine::Graph& graph, const StructuredPlan& plan);

// The masked dense equivalent of `plan`, written through `graph`'s handles
// into the model's own parameters: for every removed channel its filter (and
// bias), its BatchNorm gamma and beta, and the consumers' input slices are
// set to 0. Zeroing the filter alone would not do: BN would still output
// beta (ReLU(beta) may be > 0); with gamma = beta = 0 the channel's post-BN
// activation is exactly 0, and with the zeroed input slices it contributes
// nothing downstream, so the model computes what ApplyPlan's network does.
void ZeroRemovedChannels(const engine::Graph& graph, const StructuredPlan& plan);

// Every parameter tensor of `graph` by its name (see above): handles, not copies.
std::map<std::string, engine::Tensor> ParametersByName(const engine::Graph& graph);

// Copies `source` into `params` by name. Every parameter in `params` must
// have a source of the same dims; throws std::invalid_argument naming the
// first that does not.
void CopyParameters(const std::map<std::string, engine::Tensor>& source,
                    const engine::ParameterList& params);

// Size and cost of an inference graph for one input of dims {C, H, W}:
// trainable parameters (weights, biases, BN gamma and beta) and the
// multiply-adds of its convolutions and Linear layers per image.
struct GraphCost {
  int64_t parameters = 0;
  int64_t multiply_adds = 0;
};
GraphCost CountCost(const engine::Graph& graph, const engine::Dims& input_chw);

}  // namespace psg::prune

#endif  // PSG_PRUNE_STRUCTURED_H_
