// Loss-aware post-training quantization (LAPQ; Nahshan et al. 2019, "Loss
// Aware Post-training Quantization"), a post-training baseline of the PSG
// paper. Each covered weight tensor (per tensor, restricted symmetric grid)
// and each activation quantizer (unsigned grid on [0, range]) gets a clipping
// value: first each its own, the one minimizing the Lp norm of its own
// quantization error, with one p for all chosen among candidates by the task
// loss; then all of them jointly by Powell's derivative-free method on the
// task loss over calibration data (in log space, so clips stay positive).
//
//   std::vector<LapqWeight> weights = {{conv1_weight, 8}, {conv2_weight, 4}, ...};
//   std::vector<LapqActivation> activations = {{relu1_quantizer, samples1}, ...};
//   LossAwareQuantization lapq(weights, activations);   // copies the FP weights
//   LapqResult result = lapq.Run([&] { return CalibrationLoss(model); }, {});
//   // the model now holds the quantized weights and the ranges of `result`
//   lapq.RestoreWeights();
#ifndef PSG_QUANT_LAPQ_H_
#define PSG_QUANT_LAPQ_H_

#include <functional>
#include <vector>

#include "absl/types/span.h"
#include "engine/parameter.h"
#include "quant/activation_quant.h"

namespace psg::quant {

// The clip in (0, max |x|] minimizing sum |x - Q(x)|^p, Q the b-bit grid on
// [-clip, clip] (restricted symmetric) or, `unsigned_grid`, on [0, clip]:
// the best of 100 evenly spaced clips, refined by golden-section search
// between its neighbours. 0 when every x is 0.
double LpOptimalClip(absl::Span<const float> x, int bits, bool unsigned_grid, double p);

// Minimizes f from x0 by Powell's conjugate-direction method: line searches
// (golden section on [-step, step] around the current point) along each
// direction, then along the sweep's overall displacement, which replaces the
// direction of largest decrease. Stops after a sweep that lowers f by less
// than `tolerance` (relative) or at `max_evaluations` calls of f.
struct PowellOptions {
  double step = 0.5;
  int line_search_evaluations = 8;
  int max_evaluations = 1000;
  double tolerance = 1e-4;
};
struct PowellResult {
  std::vector<double> x;
  double value = 0;
  int evaluations = 0;
  int sweeps = 0;
};
PowellResult PowellMinimize(const std::function<double(const std::vector<double>&)>& f,
                            std::vector<double> x0, const PowellOptions& options);

struct LapqWeight {
  engine::Parameter* param = nullptr;
  int bits = 4;
};

struct LapqActivation {
  FakeQuantActivation* quantizer = nullptr;
  std::vector<float> samples;  // of its input over the calibration data
};

struct LapqOptions {
  std::vector<double> norms = {2.0, 2.5, 3.0, 3.5, 4.0};  // the paper's candidates for p
  PowellOptions powell;
};

struct LapqResult {
  double p = 0;
  double rounding_loss = 0;  // the exact ranges (max |x|), as plain rounding
  double lp_loss = 0;        // every clip Lp-optimal at p
  double final_loss = 0;     // after Powell
  int loss_evaluations = 0;
  int sweeps = 0;
  std::vector<double> weight_clips, activation_clips;
  std::vector<double> weight_mse;  // per weight tensor, at the final clips
};

class LossAwareQuantization {
 public:
  // Throws std::invalid_argument for a missing parameter or quantizer, or
  // an activation without samples.
  LossAwareQuantization(std::vector<LapqWeight> weights, std::vector<LapqActivation> activations);

  // Optimizes the clips for `loss` (the task loss of the model as it is
  // now) and leaves the model quantized with the best ones found.
  LapqResult Run(const std::function<double()>& loss, const LapqOptions& options);

  // The floating-point weights back (activation ranges stay).
  void RestoreWeights() const;

 private:
  // Quantizes the weights and sets the activation ranges with exp(log_clips).
  void Apply(const std::vector<double>& log_clips) const;

  std::vector<LapqWeight> weights_;
  std::vector<LapqActivation> activations_;
  std::vector<std::vector<float>> fp_weights_;
};

}  // namespace psg::quant

#endif  // PSG_QUANT_LAPQ_H_
