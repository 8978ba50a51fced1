// Unsigned b-bit activation quantization layers (engine::Layer) for
// post-training quantization and quantization-aware training, inserted after
// ReLUs (models::ModelOptions::activation_layer). Each maps x to
// step * round(clip(x / step, 0, 2^b - 1)) over the shared grid
// (compression/quant_grid.h), in the input's own (possibly blocked) layout, and
// backpropagates with the straight-through estimator (STE) inside the range:
//
//   FakeQuantActivation  fixed range [0, r] (set_range, or the exact max over
//                        calibration batches); dx = dy where 0 <= x <= r.
//   PactActivation       PACT (Choi et al. 2018): learned clip alpha
//                        (ParamKind::kActivationClip); dx = dy where
//                        0 <= x < alpha, dL/dalpha = sum of dy over x >= alpha.
//   LsqActivation        LSQ (Esser et al. 2020): learned step s
//                        (ParamKind::kQuantStep), initialized on the first
//                        batch to 2 mean|x| / sqrt(Qp); dx = dy where
//                        0 < x/s < Qp; ds per the paper's eq. 3, scaled by
//                        1 / sqrt(N_F Qp), N_F the features per example.
//
// The output is a buffer of the layer's own (not the input's, which the
// producing layer's backward may still read, e.g. Add's fused ReLU).
//
//   models::ModelOptions o{.name = "resnet20"};
//   o.activation_layer = [](const std::string& name) {
//     return std::make_unique<quant::LsqActivation>(name, /*bits=*/4);
//   };
//   FakeQuantActivation act("act", 8);
//   act.StartCalibration();  ... forward batches ...;  act.FinishCalibration();
#ifndef PSG_QUANT_ACTIVATION_QUANT_H_
#define PSG_QUANT_ACTIVATION_QUANT_H_

#include <string>
#include <vector>

#include "compression/quant_grid.h"
#include "engine/layer.h"
#include "engine/plan_cache.h"
#include "engine/reorder.h"

namespace psg::quant {

// The shared plumbing: output and input-gradient buffers per input layout,
// the kept input, the output gradient brought to the input's layout. The
// subclasses give the grid and the backward kernel.
class ActivationQuantizer : public engine::Layer {
 public:
  ~ActivationQuantizer() override;

  const engine::Tensor& Forward(const engine::Tensor& x, engine::Mode mode) override;
  const engine::Tensor& Backward(const engine::Tensor& dy) override;
  // Adds no node: sets the output_grid of node `input` (the ReLU output this
  // layer follows) to InferenceGrid() and returns `input`. Throws if that
  // node's output is already quantized.
  int Export(engine::Graph* graph, int input) const override;

  // The grid an eval-mode Forward uses now; throws std::invalid_argument if
  // the layer has none yet (not calibrated, LSQ before its first batch).
  virtual compression::GridPoint InferenceGrid() const = 0;

  int bits() const { return bits_; }
  // The top level 2^b - 1 (Qp).
  float max_level() const { return max_level_; }

 protected:
  // Throws std::invalid_argument unless 2 <= bits <= 8.
  ActivationQuantizer(std::string name, int bits);

  // The grid of this forward; `x` is the whole raw buffer (n floats, padding
  // included) and `numel` its logical size, for data-dependent setup.
  virtual compression::GridPoint Grid(const float* x, int64_t n, int64_t numel) = 0;
  // Writes dx over the n raw elements and the parameter gradients; `per_example`
  // is the number of logical elements per example (C*H*W).
  virtual void BackwardKernel(const float* x, const float* dy, float* dx, int64_t n,
                              int64_t per_example) = 0;

 private:
  struct Plan;
  int bits_;
  float max_level_;
  engine::PlanCache<Plan> plans_;
  Plan* current_ = nullptr;
  engine::Tensor input_;
};

class FakeQuantActivation : public ActivationQuantizer {
 public:
  FakeQuantActivation(std::string name, int bits, float range = 0.0f);

  // Throws std::invalid_argument unless range > 0.
  void set_range(float range);
  float range() const { return range_; }

  // While calibrating, Forward returns its input unchanged and records the
  // max of every batch: with `momentum` 0 the exact max over all of them;
  // with momentum m in (0, 1] a running max, the first batch's exact max then
  // r <- m * max + (1 - m) * r (the released PSG code's activation range,
  // quant_module.py post_training_weight, momentum 0.1). FinishCalibration
  // makes it the range (and throws if no positive activation was seen).
  // With `samples_per_batch` > 0 it also keeps that many evenly strided
  // values of each batch (samples(): for clip searches such as LAPQ's).
  void StartCalibration(float momentum = 0.0f, int64_t samples_per_batch = 0);
  void FinishCalibration();
  bool calibrating() const { return calibrating_; }
  float observed_max() const { return observed_max_; }
  const std::vector<float>& samples() const { return samples_; }

  const engine::Tensor& Forward(const engine::Tensor& x, engine::Mode mode) override;
  compression::GridPoint InferenceGrid() const override;

 protected:
  compression::GridPoint Grid(const float* x, int64_t n, int64_t numel) override;
  void BackwardKernel(const float* x, const float* dy, float* dx, int64_t n,
                      int64_t per_example) override;

 private:
  float range_ = 0.0f;
  bool calibrating_ = false;
  float momentum_ = 0.0f;
  int64_t batches_seen_ = 0;
  float observed_max_ = 0.0f;
  int64_t samples_per_batch_ = 0;
  std::vector<float> samples_;
};

class PactActivation : public ActivationQuantizer {
 public:
  // alpha ("<name>.alpha") starts at `initial_alpha` > 0 (PACT's CIFAR setting: 10).
  PactActivation(std::string name, int bits, float initial_alpha = 10.0f);

  void CollectParameters(engine::ParameterList* out) override { out->push_back(&alpha_); }
  float alpha() const { return alpha_.value.raw()[0]; }
  compression::GridPoint InferenceGrid() const override;

 protected:
  compression::GridPoint Grid(const float* x, int64_t n, int64_t numel) override;
  void BackwardKernel(const float* x, const float* dy, float* dx, int64_t n,
                      int64_t per_example) override;

 private:
  engine::Parameter alpha_;
};

class LsqActivation : public ActivationQuantizer {
 public:
  // The step ("<name>.step") is 0 until the first Forward sets it from its
  // batch; a step restored from a checkpoint (> 0) is kept.
  LsqActivation(std::string name, int bits);

  void CollectParameters(engine::ParameterList* out) override { out->push_back(&step_); }
  float step() const { return step_.value.raw()[0]; }
  compression::GridPoint InferenceGrid() const override;

 protected:
  compression::GridPoint Grid(const float* x, int64_t n, int64_t numel) override;
  void BackwardKernel(const float* x, const float* dy, float* dx, int64_t n,
                      int64_t per_example) override;

 private:
  engine::Parameter step_;
};

}  // namespace psg::quant

#endif  // PSG_QUANT_ACTIVATION_QUANT_H_
