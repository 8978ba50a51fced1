// Naive scalar reference implementations of the engine's layers, written as
// the textbook loops (double accumulation, plain NCHW / OIHW / row-major
// layouts) for tests to compare the oneDNN kernels against.
//
//   std::vector<float> y = reference::Conv2d(x, {n, c, h, w}, weight, bias,
//                                            {.out_channels = 8, .kernel = 3});
#ifndef PSG_ENGINE_TESTING_REFERENCE_H_
#define PSG_ENGINE_TESTING_REFERENCE_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace psg::engine::reference {

struct Shape4 {
  int64_t n, c, h, w;
};

struct ConvParams {
  int64_t out_channels;
  int64_t kernel;
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t groups = 1;
};

// weight: {out, in/groups, k, k}; bias empty or {out}.
std::vector<float> Conv2d(absl::Span<const float> x, Shape4 s, absl::Span<const float> weight,
                          absl::Span<const float> bias, const ConvParams& p);

// Batch statistics (biased variance) normalization per channel, then
// gamma * xhat + beta, optionally followed by ReLU.
struct BatchNormResult {
  std::vector<float> y;
  std::vector<double> mean;
  std::vector<double> variance;  // biased
};
BatchNormResult BatchNormTrain(absl::Span<const float> x, Shape4 s, absl::Span<const float> gamma,
                               absl::Span<const float> beta, double epsilon, bool relu);
std::vector<float> BatchNormInference(absl::Span<const float> x, Shape4 s,
                                      absl::Span<const float> gamma, absl::Span<const float> beta,
                                      absl::Span<const float> mean,
                                      absl::Span<const float> variance, double epsilon, bool relu);

enum class PoolKind { kMax, kAvgIncludePadding, kAvgExcludePadding };
std::vector<float> Pool2d(absl::Span<const float> x, Shape4 s, PoolKind kind, int64_t kernel,
                          int64_t stride, int64_t padding);

// y[n][o] = sum_i x[n][i] * weight[o][i] + bias[o].
std::vector<float> Linear(absl::Span<const float> x, int64_t batch, int64_t in_features,
                          absl::Span<const float> weight, absl::Span<const float> bias,
                          int64_t out_features);

// Mean over the batch of -sum_k t_k log softmax(z)_k with t = (1 - smoothing)
// one_hot(label) + smoothing / classes.
double SoftmaxCrossEntropy(absl::Span<const float> logits, int64_t batch, int64_t classes,
                           absl::Span<const int32_t> labels, double smoothing);

}  // namespace psg::engine::reference

#endif  // PSG_ENGINE_TESTING_REFERENCE_H_
