// A scalar PSGD written from psg-method.md's definitions, one formula per line:
// the observed range, its moving average, the grid, Q(w), s(w), then the torch
// SGD / Adam formulas step by step. Tests hold the fused kernels to it; it
// shares no code with them, only the option structs and the coverage.
//
//   ReferencePsgd reference(params, options);
//   reference.Step(lr, GradientsOf(params));   // before Psgd::Step may touch them
//   EXPECT_EQ(reference.weights(i), ToVector(params[i]->value.flat()));
#ifndef PSG_PSG_TESTING_REFERENCE_PSGD_H_
#define PSG_PSG_TESTING_REFERENCE_PSGD_H_

#include <cstdint>
#include <vector>

#include "compression/coverage.h"
#include "engine/parameter.h"
#include "psg/psgd.h"

namespace psg::psgd {

class ReferencePsgd {
 public:
  // Copies the parameters' values and shapes.
  ReferencePsgd(const engine::ParameterList& params, const PsgdOptions& options);

  // One step with grads[i] the loss gradient of parameter i.
  void Step(float lr, const std::vector<std::vector<float>>& grads);

  const std::vector<float>& weights(size_t i) const { return tensors_[i].w; }
  // SGD momentum or Adam m; Adam v.
  const std::vector<float>& first_moment(size_t i) const { return tensors_[i].m; }
  const std::vector<float>& second_moment(size_t i) const { return tensors_[i].v; }
  // Per row: {max_abs}, or {min, max} for the asymmetric range.
  const std::vector<float>& range(size_t i) const { return tensors_[i].range; }

 private:
  struct Tensor {
    std::vector<float> w, m, v, range;
    int64_t rows;
    compression::Coverage coverage;
  };
  // The target point of every weight of t, after updating t's range.
  std::vector<float> Targets(Tensor& t) const;

  PsgdOptions options_;
  std::vector<Tensor> tensors_;
  int64_t steps_ = 0;
};

// The current gradients of `params`, copied.
std::vector<std::vector<float>> GradientsOf(const engine::ParameterList& params);

}  // namespace psg::psgd

#endif  // PSG_PSG_TESTING_REFERENCE_PSGD_H_
