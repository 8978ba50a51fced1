#include "engine/testing/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace psg::engine::reference {

std::vector<float> Conv2d(absl::Span<const float> x, Shape4 s, absl::Span<const float> weight,
                          absl::Span<const float> bias, const ConvParams& p) {
  const int64_t oh = (s.h + 2 * p.padding - p.kernel) / p.stride + 1;
  const int64_t ow = (s.w + 2 * p.padding - p.kernel) / p.stride + 1;
  const int64_t in_per_group = s.c / p.groups, out_per_group = p.out_channels / p.groups;
  std::vector<float> y(s.n * p.out_channels * oh * ow);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < p.out_channels; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bias.empty() ? 0.0 : bias[o];
          const int64_t group = o / out_per_group;
          for (int64_t ci = 0; ci < in_per_group; ++ci) {
            const int64_t c = group * in_per_group + ci;
            for (int64_t ki = 0; ki < p.kernel; ++ki)
              for (int64_t kj = 0; kj < p.kernel; ++kj) {
                const int64_t r = i * p.stride - p.padding + ki, q = j * p.stride - p.padding + kj;
                if (r < 0 || r >= s.h || q < 0 || q >= s.w) continue;
                acc += double(x[((n * s.c + c) * s.h + r) * s.w + q]) *
                       weight[((o * in_per_group + ci) * p.kernel + ki) * p.kernel + kj];
              }
          }
          y[((n * p.out_channels + o) * oh + i) * ow + j] = static_cast<float>(acc);
        }
  return y;
}

namespace {

std::vector<float> Normalize(absl::Span<const float> x, Shape4 s, absl::Span<const float> gamma,
                             absl::Span<const float> beta, const std::vector<double>& mean,
                             const std::vector<double>& variance, double epsilon, bool relu) {
  std::vector<float> y(x.size());
  const int64_t hw = s.h * s.w;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t k = 0; k < hw; ++k) {
        const int64_t idx = (n * s.c + c) * hw + k;
        double v = gamma[c] * (x[idx] - mean[c]) / std::sqrt(variance[c] + epsilon) + beta[c];
        if (relu) v = std::max(v, 0.0);
        y[idx] = static_cast<float>(v);
      }
  return y;
}

}  // namespace

BatchNormResult BatchNormTrain(absl::Span<const float> x, Shape4 s, absl::Span<const float> gamma,
                               absl::Span<const float> beta, double epsilon, bool relu) {
  BatchNormResult r;
  r.mean.assign(s.c, 0.0);
  r.variance.assign(s.c, 0.0);
  const int64_t hw = s.h * s.w, count = s.n * hw;
  for (int64_t c = 0; c < s.c; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t k = 0; k < hw; ++k) sum += x[(n * s.c + c) * hw + k];
    r.mean[c] = sum / count;
    double sq = 0;
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t k = 0; k < hw; ++k) {
        const double d = x[(n * s.c + c) * hw + k] - r.mean[c];
        sq += d * d;
      }
    r.variance[c] = sq / count;
  }
  r.y = Normalize(x, s, gamma, beta, r.mean, r.variance, epsilon, relu);
  return r;
}

std::vector<float> BatchNormInference(absl::Span<const float> x, Shape4 s,
                                      absl::Span<const float> gamma, absl::Span<const float> beta,
                                      absl::Span<const float> mean,
                                      absl::Span<const float> variance, double epsilon,
                                      bool relu) {
  return Normalize(x, s, gamma, beta, std::vector<double>(mean.begin(), mean.end()),
                   std::vector<double>(variance.begin(), variance.end()), epsilon, relu);
}

std::vector<float> Pool2d(absl::Span<const float> x, Shape4 s, PoolKind kind, int64_t kernel,
                          int64_t stride, int64_t padding) {
  const int64_t oh = (s.h + 2 * padding - kernel) / stride + 1;
  const int64_t ow = (s.w + 2 * padding - kernel) / stride + 1;
  std::vector<float> y(s.n * s.c * oh * ow);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t inside = 0;
          for (int64_t ki = 0; ki < kernel; ++ki)
            for (int64_t kj = 0; kj < kernel; ++kj) {
              const int64_t r = i * stride - padding + ki, q = j * stride - padding + kj;
              if (r < 0 || r >= s.h || q < 0 || q >= s.w) continue;
              const double v = x[((n * s.c + c) * s.h + r) * s.w + q];
              best = std::max(best, v);
              sum += v;
              ++inside;
            }
          double out = best;
          if (kind == PoolKind::kAvgIncludePadding) out = sum / (kernel * kernel);
          if (kind == PoolKind::kAvgExcludePadding) out = sum / inside;
          y[((n * s.c + c) * oh + i) * ow + j] = static_cast<float>(out);
        }
  return y;
}

std::vector<float> Linear(absl::Span<const float> x, int64_t batch, int64_t in_features,
                          absl::Span<const float> weight, absl::Span<const float> bias,
                          int64_t out_features) {
  std::vector<float> y(batch * out_features);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < out_features; ++o) {
      double acc = bias.empty() ? 0.0 : bias[o];
      for (int64_t i = 0; i < in_features; ++i)
        acc += double(x[n * in_features + i]) * weight[o * in_features + i];
      y[n * out_features + o] = static_cast<float>(acc);
    }
  return y;
}

double SoftmaxCrossEntropy(absl::Span<const float> logits, int64_t batch, int64_t classes,
                           absl::Span<const int32_t> labels, double smoothing) {
  double total = 0;
  for (int64_t n = 0; n < batch; ++n) {
    double denom = 0;
    for (int64_t k = 0; k < classes; ++k) denom += std::exp(double(logits[n * classes + k]));
    for (int64_t k = 0; k < classes; ++k) {
      const double target = (k == labels[n] ? 1.0 - smoothing : 0.0) + smoothing / classes;
      total -= target * (logits[n * classes + k] - std::log(denom));
    }
  }
  return total / batch;
}

}  // namespace psg::engine::reference
