// Batch-norm folding on an inference graph (engine/graph.h): every BatchNorm
// whose input is a convolution read by nothing else (and neither ReLU'd nor
// quantized) becomes part of that convolution, W'[o] = W[o] * g[o] and
// b'[o] = beta[o] + (b[o] - mean[o]) * g[o] with g = gamma / sqrt(running_var
// + eps), and its fused ReLU and output grid (an activation quantizer's) move
// to the convolution. The folded weights and biases are new tensors owned by
// the result (the model's parameters are not touched); other nodes keep their
// handles. A BatchNorm that follows anything else is kept as it is.
//
//   engine::Graph graph;
//   model.Export(&graph, graph.AddInput("input"));
//   engine::Graph folded = FoldBatchNorm(graph);
#ifndef PSG_QUANT_BN_FOLD_H_
#define PSG_QUANT_BN_FOLD_H_

#include "engine/graph.h"

namespace psg::quant {

engine::Graph FoldBatchNorm(const engine::Graph& graph);

}  // namespace psg::quant

#endif  // PSG_QUANT_BN_FOLD_H_
