// Pruning while training, for a training binary from flags:
//
//   --prune_sparsity=0.9 (0: no pruning) --prune_scope=layer|global --prune_first_last=false
//   --prune_method=magnitude|snip|agp
//     magnitude: one-shot magnitude pruning (prune/magnitude.h) of the
//                starting weights (after --init_from), then training with the masks;
//     snip:      SNIP (prune/snip.h): saliency |w * g| from --snip_batches
//                training batches (gradients summed), one-shot, then training
//                with the masks (the paper's setting: a fresh model, --prune_scope=global);
//     agp:       gradual magnitude pruning (prune/agp.h) on the cubic schedule
//                from --agp_initial_sparsity at --agp_start_step to
//                --prune_sparsity at --agp_end_step, every --agp_frequency steps;
//     l0:        L0 regularization with hard concrete gates (prune/l0.h):
//                --l0_lambda (cost per expected nonzero weight),
//                --l0_initial_drop; the sparsity is learned (no --prune_sparsity),
//                and the weights whose evaluation gate is 0 are pruned.
//
// The optimizer (SGD or PSGD) is wrapped so that every step masks the
// gradients and re-masks the weights; the masks are checkpointed with the
// optimizer state, so --resume continues with the same masks (and schedule).
//
//   absl::StatusOr<PruneFromFlags> prune = ReadPruneFlags();
//   auto optimizer = MakeOptimizer(trainable, ...);
//   absl::Status s = AttachPruning(*prune, params, &*optimizer,    // after loading weights
//                                  train::TrainingGradients(*model, *data, batch_size));
//
// L0's gates are learned parameters: make them before the optimizer and run
// them around the trainer's steps:
//
//   std::unique_ptr<prune::L0Gates> gates = MakeL0Gates(*prune, params, seed);  // after loading weights
//   optimizer over TrainableOnly(params) + gates->parameters();
//   pipeline::AttachL0Gates(gates.get(), *optimizer->optimizer, &trainer);  // pipeline/l0_training.h
//   ... after training: std::printf("%s", pipeline::L0Summary(*gates).c_str());
#ifndef PSG_CLI_PRUNE_FLAGS_H_
#define PSG_CLI_PRUNE_FLAGS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/optimizer_flags.h"
#include "engine/parameter.h"
#include "flags/enum_flag.h"
#include "prune/agp.h"
#include "prune/l0.h"
#include "prune/magnitude.h"
#include "train/gradient_pass.h"

namespace psg::cli {

enum class PruneMethod { kMagnitude, kSnip, kAgp, kL0 };
inline constexpr flags::EnumName<PruneMethod> kPruneMethodNames[] = {{"magnitude", PruneMethod::kMagnitude},
                                                                     {"snip", PruneMethod::kSnip},
                                                                     {"agp", PruneMethod::kAgp},
                                                                     {"l0", PruneMethod::kL0}};
PSG_ENUM_FLAG(PruneMethod, kPruneMethodNames)

// How L0's gates are trained (--l0_gate_optimizer).
enum class L0GateOptimizer { kAdam, kSgd };
inline constexpr flags::EnumName<L0GateOptimizer> kL0GateOptimizerNames[] = {{"adam", L0GateOptimizer::kAdam},
                                                                             {"sgd", L0GateOptimizer::kSgd}};
PSG_ENUM_FLAG(L0GateOptimizer, kL0GateOptimizerNames)

struct PruneFromFlags {
  bool enabled = false;  // --prune_sparsity > 0, or --prune_method=l0
  PruneMethod method = PruneMethod::kMagnitude;
  prune::MagnitudeOptions options;  // the (final) sparsity, scope and coverage of every method
  int64_t snip_batches = 1;         // kSnip
  prune::AgpOptions agp;            // kAgp (its sparsity, scope and coverage as `options`)
  prune::L0Options l0;              // kL0 (its coverage as `options`; seed set by MakeL0Gates)
  // kL0: the gates' own Adam (as the reference code's LeNet-5 script) at
  // l0_gate_lr, following the weights' schedule; else the weights' optimizer
  // with the gates' gradients times l0.gate_lr_scale.
  bool l0_gates_adam = true;
  double l0_gate_lr = 1e-3;
};

// Rejects a sparsity outside [0, 1), an unknown scope or method, SNIP or AGP
// without a sparsity, --snip_batches < 1, a bad AGP schedule, L0 with a
// --prune_sparsity, a negative --l0_lambda and --l0_initial_drop outside (0, 1).
absl::StatusOr<PruneFromFlags> ReadPruneFlags();

// Rejects an AGP schedule whose last pruning step (--agp_end_step) is not
// before the run's `total_steps`: the final sparsity would never be reached.
absl::Status CheckPruneSchedule(const PruneFromFlags& prune, int64_t total_steps);

// When enabled: magnitude and SNIP prune `params` (the model's list) now,
// zero the pruned entries' optimizer state and wrap optimizer->optimizer in a
// prune::MaskedOptimizer; AGP wraps it in a prune::AgpOptimizer (nothing
// pruned yet); L0 changes nothing here (see MakeL0Gates). Adds the pruning to
// optimizer->description. Always adds the flags to optimizer->json. SNIP
// needs `gradients`. Returns the per-layer report (empty when disabled or L0).
absl::StatusOr<std::vector<prune::LayerSparsity>> AttachPruning(const PruneFromFlags& prune,
                                                               const engine::ParameterList& params,
                                                               OptimizerFromFlags* optimizer,
                                                               const train::GradientPass& gradients = nullptr);

// For --prune_method=l0: the gates over `params` (the model's whole list,
// after its weights are loaded), their noise and initialization from `seed`
// (the run's); null for the other methods.
std::unique_ptr<prune::L0Gates> MakeL0Gates(const PruneFromFlags& prune, const engine::ParameterList& params,
                                            uint64_t seed);

// With Adam gates (--l0_gate_optimizer=adam): optimizer->optimizer becomes
// an engine::OptimizerGroup of itself and an Adam over the gates at
// --l0_gate_lr / `base_lr` of the scheduled lr (so --l0_gate_lr at the
// schedule's peak `base_lr`); adds them to the description and JSON.
// Nothing for null `gates` or SGD gates (then the gates belong in the
// trainable list the weights' optimizer was made with).
void AddL0GateOptimizer(const PruneFromFlags& prune, prune::L0Gates* gates, double base_lr,
                        OptimizerFromFlags* optimizer);

}  // namespace psg::cli

#endif  // PSG_CLI_PRUNE_FLAGS_H_
