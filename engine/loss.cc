#include "engine/loss.h"

#include <algorithm>
#include <cmath>

#include "engine/check.h"
#include "engine/context.h"

namespace psg::engine {

SoftmaxCrossEntropy::SoftmaxCrossEntropy(const LossOptions& options) : options_(options) {
  PSG_CHECK(options_.label_smoothing >= 0 && options_.label_smoothing < 1,
            "label smoothing must be in [0, 1), got ", options_.label_smoothing);
}

double SoftmaxCrossEntropy::Forward(const Tensor& logits, absl::Span<const int32_t> labels) {
  const Dims d = logits.dims();
  PSG_CHECK(d.size() == 2, "loss: logits must be {N, K}, got ", DimsToString(d));
  const int64_t n = d[0], k = d[1];
  PSG_CHECK(static_cast<int64_t>(labels.size()) == n, "loss: ", labels.size(),
            " labels for a batch of ", n);
  PSG_CHECK(logits.is_plain(), "loss: logits must be plain {N, K}");
  Stream().wait();
  probabilities_.EnsureDesc(logits.desc());
  labels_.assign(labels.begin(), labels.end());
  const float s = options_.label_smoothing;
  const float* z = logits.raw();
  float* p = probabilities_.raw();
  double total = 0;
  correct_ = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t label = labels[i];
    PSG_CHECK(label >= 0 && label < k, "loss: label ", label, " of sample ", i,
              " is outside [0, ", k, ")");
    const float* zi = z + i * k;
    float* pi = p + i * k;
    const int64_t argmax = std::max_element(zi, zi + k) - zi;
    const float max = zi[argmax];
    double denom = 0;
    for (int64_t j = 0; j < k; ++j) denom += std::exp(double(zi[j]) - max);
    const double log_denom = std::log(denom);
    double sample = 0;
    for (int64_t j = 0; j < k; ++j) {
      const double log_p = zi[j] - max - log_denom;
      pi[j] = static_cast<float>(std::exp(log_p));
      const double target = (j == label ? 1.0 - s : 0.0) + double(s) / k;
      sample -= target * log_p;
    }
    total += sample;
    correct_ += argmax == label;
  }
  return total / n;
}

const Tensor& SoftmaxCrossEntropy::Backward() {
  PSG_CHECK(!probabilities_.empty(), "loss: Backward needs a preceding Forward");
  grad_.EnsureDesc(probabilities_.desc());
  const Dims d = probabilities_.dims();
  const int64_t n = d[0], k = d[1];
  const float s = options_.label_smoothing;
  const float* p = probabilities_.raw();
  float* g = grad_.raw();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      const float target = (j == labels_[i] ? 1.0f - s : 0.0f) + s / k;
      g[i * k + j] = (p[i * k + j] - target) / n;
    }
  }
  return grad_;
}

}  // namespace psg::engine
