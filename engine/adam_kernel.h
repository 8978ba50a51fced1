// The Adam update of one tensor as a single pass over memory, the counterpart
// of sgd_kernel.h for Adam (plain, and PSG's variant): the gradient scale is a
// functor of w inlined into the loop, and weight decay is added after it.
//
// Per element, as torch.optim.Adam defines it (L2 weight decay, no amsgrad;
// the first moment in its mul/add form, bias corrections in double):
//   d  = scale(w) * g + weight_decay * w
//   m  = beta1 * m + (1 - beta1) * d
//   v  = beta2 * v + (1 - beta2) * d * d
//   w -= lr / (1 - beta1^t) * (m / (sqrt(v) / sqrt(1 - beta2^t) + eps))
//
//   AdamUpdate(hyper, /*step=*/t, w, g, m, v, n, engine::UnitScale());
#ifndef PSG_ENGINE_ADAM_KERNEL_H_
#define PSG_ENGINE_ADAM_KERNEL_H_

#include <cmath>
#include <cstdint>

namespace psg::engine {

struct AdamHyper {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};

// `step` counts updates from 1; m and v start at zero.
template <typename GradScale>
inline void AdamUpdate(const AdamHyper& h, int64_t step, float* __restrict w,
                       const float* __restrict g, float* __restrict m, float* __restrict v,
                       int64_t n, GradScale scale) {
  const double t = static_cast<double>(step);
  const float step_size = static_cast<float>(h.lr / (1.0 - std::pow(double{h.beta1}, t)));
  const float bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(double{h.beta2}, t)));
  const float b1 = h.beta1, b2 = h.beta2, eps = h.eps, wd = h.weight_decay;
  for (int64_t i = 0; i < n; ++i) {
    const float d = scale(w[i]) * g[i] + wd * w[i];
    const float mi = b1 * m[i] + (1.0f - b1) * d;
    const float vi = b2 * v[i] + (1.0f - b2) * d * d;
    m[i] = mi;
    v[i] = vi;
    w[i] -= step_size * (mi / (std::sqrt(vi) / bias2_sqrt + eps));
  }
}

}  // namespace psg::engine

#endif  // PSG_ENGINE_ADAM_KERNEL_H_
