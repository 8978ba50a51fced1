// A scalar fp32 executor of an inference graph (engine/graph.h) for tests:
// every node runs through the textbook loops of engine/testing/reference.h on
// plain NCHW values, so an exported or transformed graph can be checked
// against a model's eval-mode Forward. A node's output_grid quantizes its
// output as the model's activation quantizer does.
//
//   RandomizeBatchNorm(*model, /*seed=*/1);
//   PlainValues logits = RunGraphReference(graph, {{n, 3, 32, 32}, images});
#ifndef PSG_ENGINE_TESTING_GRAPH_REFERENCE_H_
#define PSG_ENGINE_TESTING_GRAPH_REFERENCE_H_

#include <vector>

#include "engine/graph.h"
#include "engine/layer.h"

namespace psg::engine::reference {

struct PlainValues {
  Dims dims;                  // {N, C, H, W} or {N, features}
  std::vector<float> values;  // row-major (NCHW)
};

// Random batch-norm parameters and statistics for inference tests (other
// parameters are left alone): gamma uniform in [0.5, 1.5], beta and the
// running mean in [-0.2, 0.2], the running variance in [0.5, 2].
void RandomizeBatchNorm(Layer& model, uint32_t seed);

// Runs the graph's single input node on `input`; returns the output node's values.
PlainValues RunGraphReference(const Graph& graph, const PlainValues& input);

}  // namespace psg::engine::reference

#endif  // PSG_ENGINE_TESTING_GRAPH_REFERENCE_H_
