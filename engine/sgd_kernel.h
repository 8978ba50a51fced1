// The SGD update of one tensor as a single pass over memory, shared by the
// engine's Sgd and by optimizers that scale the gradient per element (PSG):
// the scale is a functor inlined into the same loop, so a scaled update reads
// and writes each of weight, gradient and momentum exactly once.
//
// Per element, as torch.optim.SGD defines it (the gradient scale applies to
// the loss gradient only; weight decay is added after it):
//   d   = scale(w) * g + weight_decay * w
//   buf = first_step ? d : momentum * buf + (1 - dampening) * d
//   w  -= lr * (nesterov ? d + momentum * buf : buf)
//
//   SgdUpdate(hyper, first_step, w, g, buf, n, UnitScale());
#ifndef PSG_ENGINE_SGD_KERNEL_H_
#define PSG_ENGINE_SGD_KERNEL_H_

#include <cstdint>

namespace psg::engine {

struct SgdHyper {
  float lr = 0.1f;
  float momentum = 0.9f;
  float dampening = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
};

struct UnitScale {
  float operator()(float) const { return 1.0f; }
};

template <typename GradScale>
inline void SgdUpdate(const SgdHyper& h, bool first_step, float* __restrict w,
                      const float* __restrict g, float* __restrict buf, int64_t n,
                      GradScale scale) {
  const float lr = h.lr, m = h.momentum, wd = h.weight_decay, keep = 1.0f - h.dampening;
  if (m == 0.0f) {
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * (scale(w[i]) * g[i] + wd * w[i]);
    return;
  }
  // Branch-free inner loops: each variant is its own loop so each one
  // vectorizes (compile with -fvect-cost-model=cheap: GCC 12's -O2 default
  // skips loops of unknown trip count).
  if (first_step && h.nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = scale(w[i]) * g[i] + wd * w[i];
      buf[i] = d;
      w[i] -= lr * (d + m * d);
    }
  } else if (first_step) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = scale(w[i]) * g[i] + wd * w[i];
      buf[i] = d;
      w[i] -= lr * d;
    }
  } else if (h.nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = scale(w[i]) * g[i] + wd * w[i];
      const float b = m * buf[i] + keep * d;
      buf[i] = b;
      w[i] -= lr * (d + m * b);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float d = scale(w[i]) * g[i] + wd * w[i];
      const float b = m * buf[i] + keep * d;
      buf[i] = b;
      w[i] -= lr * b;
    }
  }
}

}  // namespace psg::engine

#endif  // PSG_ENGINE_SGD_KERNEL_H_
