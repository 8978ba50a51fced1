// PSGD: SGD (or Adam) whose loss gradient is scaled per element by the
// weight's distance to its compression target, s(w) = lambda * (|w - t(w)| + eps),
// on the tensors the layer policy covers; every other parameter gets the plain
// update. Released defaults: 4-bit restricted grid per tensor with a moving
// average range, momentum 0.9, weight decay added after the scaling.
//
//   Psgd psgd(TrainableOnly(params), {.scaling = {.lambda = 150.0f},
//                                     .weight_decay = 1e-4f});
//   psgd.Step(schedule.At(step));        // after Backward has filled the grads
//   for (const TensorDiagnostics& d : psgd.Diagnostics()) Log(d.name, d.quantization_mse);
//   for (const auto& [name, tensor] : psgd.State()) checkpoint.Save(name, tensor);
#ifndef PSG_PSG_PSGD_H_
#define PSG_PSG_PSGD_H_

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/types/span.h"
#include "compression/coverage.h"
#include "compression/released_defaults.h"
#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "flags/enum_flag.h"
#include "psg/scaled_update.h"
#include "psg/target.h"

namespace psg::psgd {

enum class TargetKind {
  kGrid,  // quantization: the nearest point of the b-bit grid
  kZero,  // pruning: 0
};
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<TargetKind> kTargetKindNames[] = {{"grid", TargetKind::kGrid},
                                                                   {"zero", TargetKind::kZero}};
PSG_ENUM_FLAG(TargetKind, kTargetKindNames)

enum class PsgdMethod { kSgd, kAdam };
// Its names, for flags (flags/enum_flag.h) and result files.
inline constexpr flags::EnumName<PsgdMethod> kPsgdMethodNames[] = {{"sgd", PsgdMethod::kSgd},
                                                                   {"adam", PsgdMethod::kAdam}};
PSG_ENUM_FLAG(PsgdMethod, kPsgdMethodNames)

struct PsgdOptions {
  Scaling scaling;
  TargetKind target = TargetKind::kGrid;
  GridOptions grid;
  compression::CoverageOptions policy;

  PsgdMethod method = PsgdMethod::kSgd;
  float momentum = 0.9f;
  bool nesterov = false;
  // L2 weight decay wd * w, added to the gradient after the scaling (released),
  // for SGD and Adam alike.
  float weight_decay = 0.0f;
  // Scale weight decay with the loss gradient, s * (g + wd * w), instead of
  // the released s * g + wd * w. Rewrites the covered parameters' grad to
  // g + wd * w before the update (one extra pass over them).
  bool scale_weight_decay = false;

  // Adam (method kAdam). Released: the step's lr becomes lr * 1e-2 * lambda.
  float adam_lr_factor = static_cast<float>(compression::kReleasedPsgAdamLrFactor);
  float adam_beta1 = 0.9f;
  float adam_beta2 = 0.999f;
  float adam_eps = 1e-8f;
};

struct TensorDiagnostics {
  std::string name;
  int bits;
  double mean_distance;     // mean |w - target(w)|, target as the next step would use it
  double quantization_mse;  // ||W - Q_bits(W)||^2 / n, evaluation protocol (exact max-abs)
};

class Psgd : public engine::Optimizer {
 public:
  // Throws std::invalid_argument on bad options (lambda <= 0, eps < 0, bits
  // outside [2, 8], ...) or a parameter that is not trainable.
  Psgd(engine::ParameterList params, const PsgdOptions& options);

  // One update of every parameter from its current gradient (waits for the
  // engine's stream first, as the gradients come from primitives on it).
  void Step(float lr) override;

  const PsgdOptions& options() const { return options_; }
  const engine::ParameterList& parameters() const { return params_; }
  // Coverage i belongs to parameters()[i].
  const std::vector<compression::Coverage>& coverage() const { return coverage_; }

  // Every state tensor the next Step reads besides the weights: momentum (SGD)
  // or the Adam moments for each parameter, and the moving-average grid ranges
  // of covered tensors. Writing through the spans restores them.
  // Names: "<param>/momentum", "<param>/adam_m", "<param>/adam_v",
  // "<param>/grid_range". The tensors view the optimizer's own buffers, so
  // writing into them restores the state.
  std::vector<std::pair<std::string, engine::Tensor>> State() override;
  int64_t steps() const override { return steps_; }
  void set_steps(int64_t steps) override { steps_ = steps; }

  // One entry per covered parameter, in order.
  std::vector<TensorDiagnostics> Diagnostics() const;

 private:
  // std::monostate: not covered, plain update.
  using AnyTarget = std::variant<std::monostate, ZeroTarget, GridTarget>;

  engine::ParameterList params_;
  PsgdOptions options_;
  std::vector<compression::Coverage> coverage_;
  std::vector<AnyTarget> targets_;
  std::vector<engine::Tensor> first_moments_;   // SGD momentum or Adam m, plain
  std::vector<engine::Tensor> second_moments_;  // Adam v; empty tensors for SGD
  int64_t steps_ = 0;
};

}  // namespace psg::psgd

#endif  // PSG_PSG_PSGD_H_
