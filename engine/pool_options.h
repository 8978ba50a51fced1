// The kinds and geometry of 2-D pooling, shared by the pooling layer
// (engine/pooling.h) and the inference graph (engine/graph.h).
//
//   PoolOptions max{.kind = PoolKind::kMax, .kernel = 3, .stride = 2, .padding = 1};
#ifndef PSG_ENGINE_POOL_OPTIONS_H_
#define PSG_ENGINE_POOL_OPTIONS_H_

#include <cstdint>

namespace psg::engine {

enum class PoolKind {
  kMax,
  kAverage,           // padding counts towards the divisor (PyTorch default)
  kAverageExcludePad, // divisor counts only real elements
  kGlobalAverage,     // kernel = input size, output 1x1
};

struct PoolOptions {
  PoolKind kind = PoolKind::kMax;
  int64_t kernel = 2;
  int64_t stride = 2;
  int64_t padding = 0;
};

}  // namespace psg::engine

#endif  // PSG_ENGINE_POOL_OPTIONS_H_
