// Weight fake quantization for quantization-aware training, on any model's
// ParameterList. The covered weights (compression/coverage.h's policy: every
// convolution weight, the first convolution and the last fully-connected
// weight at 8 bits when b < 4; biases stay in floating point) are replaced
// by their quantized values Q(W) for the forward and backward passes; after
// the backward the floating-point W is put back and the gradient with respect
// to Q(W) becomes one with respect to W through the straight-through estimator,
// so the optimizer updates W:
//
//   kDoReFa  (Zhou et al. 2016) u = tanh(W) / (2 M) + 1/2 with M = max|tanh W|,
//            Q(W) = M (2 quantize_b(u) - 1), quantize_b(u) = round((2^b-1) u) / (2^b-1).
//            The factor M scales the paper's [-1, 1] back to the weights'
//            range (Q(W) ~ W for small weights, so a pretrained model and its
//            un-normalized last layer keep their scale). Backward: the STE
//            through the rounding and the chain rule through tanh, with M a
//            constant: dL/dW = dL/dQ * (1 - tanh(W)^2).
//   kLsq     (Esser et al. 2020) a learned per-tensor step s ("<weight>.lsq_step",
//            ParamKind::kQuantStep), Q(W) = s round(clip(W/s, -Qp, Qp)),
//            Qp = 2^(b-1) - 1 (restricted range); s starts at 2 mean|W| / sqrt(Qp)
//            on the first BeforeForward unless restored from a checkpoint (> 0).
//            dL/dW = dL/dQ where -Qp < W/s < Qp, else 0; dL/ds per the paper's
//            eq. 3 with gradient scale 1 / sqrt(N_W Qp).
//
// Evaluation runs on Q(W) too, so the model is measured as it will be deployed.
//
//   WeightFakeQuantizer q(params, {.kind = WeightQatKind::kLsq, .coverage = {.bits = 4}});
//   optimizer parameters: TrainableOnly(params) + q.parameters()
//   q.BeforeForward(); model.Forward(x, kTrain); ...; model.Backward(dy);
//   q.AfterBackward(); sgd.Step(lr);
//   q.BeforeForward(); Evaluate(model); q.Restore();
#ifndef PSG_QUANT_WEIGHT_QAT_H_
#define PSG_QUANT_WEIGHT_QAT_H_

#include <string>
#include <utility>
#include <vector>

#include "compression/coverage.h"
#include "engine/parameter.h"

namespace psg::quant {

enum class WeightQatKind { kDoReFa, kLsq };

struct WeightQatOptions {
  WeightQatKind kind = WeightQatKind::kLsq;
  compression::CoverageOptions coverage;  // which weights, at which bit-width
};

class WeightFakeQuantizer {
 public:
  // `params`: the model's whole list (the policy finds the first convolution
  // and last fully-connected layer in it). Throws std::invalid_argument for
  // bits outside [2, 8].
  WeightFakeQuantizer(const engine::ParameterList& params, const WeightQatOptions& options);

  // Saves the covered weights and replaces them by Q(W).
  void BeforeForward();
  // Turns the gradients with respect to Q(W) into gradients with respect to W
  // (and writes the LSQ steps' gradients), then restores W.
  void AfterBackward();
  // Restores W without touching gradients (after an evaluation).
  void Restore();

  // The learned LSQ steps (trainable, for the optimizer and checkpoints);
  // empty for DoReFa.
  engine::ParameterList parameters();
  // The covered weights and their bit-widths, in order.
  std::vector<std::pair<std::string, int>> covered() const;
  bool quantized() const { return quantized_; }

 private:
  struct Entry {
    engine::Parameter* weight;
    int bits;
    std::vector<float> saved;  // the floating-point weights while quantized
    engine::Parameter step;    // LSQ only
  };

  WeightQatKind kind_;
  std::vector<Entry> entries_;  // never resized after construction
  bool quantized_ = false;
};

}  // namespace psg::quant

#endif  // PSG_QUANT_WEIGHT_QAT_H_
