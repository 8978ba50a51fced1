// The elementwise kernels of quantization-aware training, shared by the
// activation quantizers (quant/activation_quant.h) and the weight fake
// quantizer (quant/weight_qat.h): the fake-quantization pass over the engine's
// grid, the straight-through estimators (STE) of a clip and of LSQ, and LSQ's
// step initialization and gradient scale (Esser et al. 2020). Each is one
// vectorized pass over a raw buffer; an activation's buffer may include the
// zero padding of a blocked layout, which every kernel maps to zero.
//
//   FakeQuantize(compression::GridPoint{s, 0, 15}, x, y, n);       // y = s*round(clip(x/s, 0, 15))
//   double ds = LsqBackward({s, 0, 15}, x, dy, dx, n) * LsqGradScale(features, 15);
#ifndef PSG_QUANT_QAT_KERNELS_H_
#define PSG_QUANT_QAT_KERNELS_H_

#include <cstdint>

#include "compression/quant_grid.h"

namespace psg::quant {

// y[i] = grid(x[i]) for i < n; y may equal x.
void FakeQuantize(const compression::GridPoint& grid, const float* x, float* y, int64_t n);

// The STE of clipping to [0, clip]: dx[i] = dy[i] where x[i] is inside, else 0,
// with the top edge inside when `top_inside`. Returns the sum of dy over the
// x[i] above the range (x >= clip, or x > clip when `top_inside`): PACT's
// gradient with respect to the clip level. dx may equal dy.
double ClipBackward(float clip, bool top_inside, const float* x, const float* dy, float* dx,
                    int64_t n);

// LSQ's backward for Q(x) = s*round(clip(x/s, -Qn, Qp)), grid = {s, -Qn, Qp}:
// dx[i] = dy[i] where -Qn < x/s < Qp, else 0 (the STE), and the return value is
// sum_i dy[i] * dQ(x_i)/ds with dQ/ds = -Qn below the range, Qp above it and
// round(x/s) - x/s inside (the paper's eq. 3), not yet scaled by LsqGradScale.
// dx may equal dy.
double LsqBackward(const compression::GridPoint& grid, const float* x, const float* dy, float* dx,
                   int64_t n);

// LSQ's initial step 2 * mean|x| / sqrt(Qp), the mean over `numel` logical
// elements of the n-element buffer x (n >= numel: the rest is zero padding).
float LsqInitialStep(const float* x, int64_t n, int64_t numel, float qp);

// LSQ's gradient scale 1 / sqrt(count * Qp): count is the number of weights of
// the tensor, or of features of the layer (per example) for activations.
float LsqGradScale(int64_t count, float qp);

}  // namespace psg::quant

#endif  // PSG_QUANT_QAT_KERNELS_H_
