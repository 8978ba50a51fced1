// L0 regularization with hard concrete gates (Louizos, Welling, Kingma,
// ICLR 2018, "Learning Sparse Neural Networks through L0 Regularization"):
// every covered weight w_j (coverage as in prune/magnitude.h: every
// convolution weight; the first convolution and the last fully-connected
// weight only with `prune_first_last`) gets a gate z_j in [0, 1] with a
// learned log_alpha_j ("<weight name>.l0_log_alpha", ParamKind::kGateLogAlpha,
// the weight's shape), and the layer sees w_j * z_j.
//
//   training (noise u_j ~ U(0, 1), fresh each step):
//     s = sigmoid((log u - log(1 - u) + log_alpha) / beta),
//     z = min(1, max(0, s * (zeta - gamma) + gamma));
//   evaluation (deterministic):
//     z = min(1, max(0, sigmoid(log_alpha) * (zeta - gamma) + gamma)),
//     and a weight whose gate is 0 there is pruned;
//
// with the paper's beta = 2/3, gamma = -0.1, zeta = 1.1. The objective is the
// paper's: the data loss (a batch mean) plus
//
//   lambda * sum_j P(z_j != 0),  P(z_j != 0) = sigmoid(log_alpha_j - beta log(-gamma / zeta)),
//
// i.e. lambda is a cost per expected nonzero weight, not normalized by the
// number of weights (it is on the scale of a weight decay coefficient).
// log_alpha starts at N(log(1 - p) - log(p), 0.01^2) for --l0_initial_drop p
// (the paper's code), so a gate is open with probability about 1 - p.
//
// Gradients: with g = dL/d(w z) from the backward pass, dL/dw = g z and
// dL/dlog_alpha = g w dz/dlog_alpha + lambda dP/dlog_alpha, where
// dz/dlog_alpha = (zeta - gamma) s (1 - s) / beta inside (0, 1) and 0 where
// the gate is clipped. The noise is counter-based, u = hash(seed, step,
// tensor, index), so a step's gates depend only on the optimizer's step count
// and a resumed run draws the same gates as an uninterrupted one.
//
//   L0Gates gates(params, {.lambda = 1e-4, .initial_drop = 0.1});
//   optimizer over TrainableOnly(params) + gates.parameters();  // checkpoint them too
//   each step:  gates.BeforeForward(Mode::kTrain, optimizer.steps());
//               Forward; Backward; gates.AfterBackward(); optimizer.Step(lr);
//   evaluation: gates.BeforeForward(Mode::kEval, 0); Evaluate(model); gates.Restore();
//   for (const LayerSparsity& s : gates.Report()) Log(s.name, s.sparsity);
//   MaskSet masks = gates.L0Masks();  // the final zero pattern, e.g. for a masked export
#ifndef PSG_PRUNE_L0_H_
#define PSG_PRUNE_L0_H_

#include <cstdint>
#include <vector>

#include "engine/layer.h"
#include "engine/parameter.h"
#include "prune/mask.h"

namespace psg::prune {

// The hard concrete distribution's constants (the paper's values).
inline constexpr float kL0Beta = 2.0f / 3.0f;
inline constexpr float kL0Gamma = -0.1f;
inline constexpr float kL0Zeta = 1.1f;

struct L0Options {
  double lambda = 0.0;        // cost per expected nonzero gate, >= 0
  double initial_drop = 0.1;  // p in (0, 1): initial P(gate closed) ~ p
  // Multiplies the log_alpha gradients, i.e. the gates' learning rate
  // relative to the weights' under SGD. The reference code trains the gates
  // with Adam, whose step does not shrink with the gradient; under SGD the
  // penalty's gradient lambda dP/dlog_alpha is so small at a lambda that
  // still lets the data term choose which gates close that the gates hardly
  // move in a short run without this.
  double gate_lr_scale = 1.0;
  bool prune_first_last = false;
  uint64_t seed = 1;          // of the initial log_alpha and of the gate noise
};

// Throws std::invalid_argument unless lambda >= 0 (finite), 0 < p < 1 and
// gate_lr_scale > 0 (finite).
void CheckL0Options(const L0Options& options);

// A sampled gate and its derivative dz/dlog_alpha (0 where clipped).
struct GateSample {
  float z = 0;
  float dz = 0;
};
// The training gate for noise u in (0, 1).
GateSample SampleGate(float log_alpha, float u);
// The deterministic evaluation gate.
float EvalGate(float log_alpha);
// P(z != 0) under the training distribution, and its derivative.
double GateKeepProbability(float log_alpha);
double GateKeepProbabilityDerivative(float log_alpha);

// The gate noise u in (0, 1) (k + 1/2) / 2^23 for a 23-bit hash k of
// (seed, step, tensor, index): the same arguments give the same u.
float L0Noise(uint64_t seed, int64_t step, int tensor, int64_t index);

class L0Gates {
 public:
  // `params`: the model's whole list (coverage as in MagnitudeOptions); the
  // covered weights must be trainable and outlive this object. Throws
  // std::invalid_argument for bad options.
  L0Gates(const engine::ParameterList& params, const L0Options& options);
  L0Gates(const L0Gates&) = delete;
  L0Gates& operator=(const L0Gates&) = delete;

  // Saves the covered weights and writes w * z: with sampled gates for the
  // optimizer step `step` (0-based, the steps taken so far) in kTrain, with
  // the evaluation gates in kEval (`step` unused).
  void BeforeForward(engine::Mode mode, int64_t step);
  // After a kTrain backward: turns the gradients with respect to w z into
  // gradients with respect to w, writes the log_alpha gradients (data term
  // plus the penalty's, times gate_lr_scale), then restores w.
  void AfterBackward();
  // Restores w without touching gradients (after an evaluation).
  void Restore();
  bool gated() const { return gated_; }

  // The learned log_alpha, one per covered weight, in order (trainable: for
  // the optimizer and checkpoints).
  engine::ParameterList parameters();
  // The covered weights, in order.
  engine::ParameterList covered() const;

  // sum_j P(z_j != 0) over all covered weights, and lambda times it.
  double ExpectedL0() const;
  double Penalty() const { return options_.lambda * ExpectedL0(); }
  // Per covered tensor, the weights whose evaluation gate is 0.
  std::vector<LayerSparsity> Report() const;
  // Masks with 0 where the evaluation gate is 0 (the weights are not changed).
  MaskSet L0Masks() const;
  // w <- w * z with the evaluation gates, for good (e.g. before exporting the
  // model as a plain or masked one: its forward then equals the gated one).
  void FoldEvalGates();

  const L0Options& options() const { return options_; }

 private:
  struct Entry {
    engine::Parameter* weight;
    engine::Parameter log_alpha;
    std::vector<float> saved;  // w while gated
    std::vector<float> z;      // the training gates of the current step
    std::vector<float> dz;     // their dz/dlog_alpha
  };

  L0Options options_;
  std::vector<Entry> entries_;  // never resized after construction
  bool gated_ = false;
  bool training_ = false;  // the current gates are sampled (kTrain)
};

}  // namespace psg::prune

#endif  // PSG_PRUNE_L0_H_
