#include "cli/prune_flags.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/adam.h"
#include "engine/optimizer_group.h"
#include "flags/ranges.h"
#include "prune/mask.h"
#include "prune/masked_optimizer.h"
#include "prune/snip.h"

ABSL_FLAG(double, prune_sparsity, 0.0,
          "one-shot magnitude pruning after --init_from, then fine-tuning with the masks: the "
          "fraction of covered weights pruned, in [0, 1) (0: no pruning)");
PSG_FLAG_RANGE(prune_sparsity, psg::flags::FromUpTo(0, 1));
ABSL_FLAG(psg::prune::Scope, prune_scope, psg::prune::Scope::kLayer,
          "layer (the same sparsity in every covered tensor) or global (one threshold)");
ABSL_FLAG(bool, prune_first_last, false, "also prune the first convolution and the last linear layer");
ABSL_FLAG(psg::cli::PruneMethod, prune_method, psg::cli::PruneMethod::kMagnitude,
          "magnitude (one-shot by |w|, then training with the masks), snip (one-shot by |w * g| "
          "before training, Lee et al. 2019), agp (gradual magnitude pruning, Zhu & Gupta 2017) or l0 "
          "(L0 regularization with hard concrete gates, Louizos et al. 2018; the sparsity is learned)");
ABSL_FLAG(int64_t, snip_batches, 1, "SNIP: training batches whose gradients are summed for the saliency");
PSG_FLAG_RANGE(snip_batches, psg::flags::AtLeast(1));
ABSL_FLAG(double, agp_initial_sparsity, 0.0, "AGP: sparsity at --agp_start_step, in [0, --prune_sparsity]");
PSG_FLAG_RANGE(agp_initial_sparsity, psg::flags::FromUpTo(0, 1));
ABSL_FLAG(int64_t, agp_start_step, 0, "AGP: optimizer steps before the first pruning");
PSG_FLAG_RANGE(agp_start_step, psg::flags::AtLeast(0));
ABSL_FLAG(int64_t, agp_end_step, 0,
          "AGP: the last pruning (to --prune_sparsity), before this optimizer step; below the run's steps");
PSG_FLAG_RANGE(agp_end_step, psg::flags::AtLeast(0));
ABSL_FLAG(int64_t, agp_frequency, 100, "AGP: optimizer steps between prunings; divides end - start");
PSG_FLAG_RANGE(agp_frequency, psg::flags::AtLeast(1));
ABSL_FLAG(double, l0_lambda, 0.0,
          "L0: the penalty per expected nonzero covered weight, added to the batch-mean loss (>= 0; "
          "not divided by the number of weights, so on the scale of a weight decay)");
PSG_FLAG_RANGE(l0_lambda, psg::flags::AtLeast(0));
ABSL_FLAG(double, l0_initial_drop, 0.1, "L0: the gates' initial probability of being closed, in (0, 1)");
PSG_FLAG_RANGE(l0_initial_drop, (psg::flags::Range{0, 1, true, true}));
ABSL_FLAG(double, l0_gate_lr_scale, 1.0,
          "L0: the gates' learning rate relative to the weights' (> 0); under SGD the gates need a large one "
          "to move in a short run (see prune/l0.h)");
PSG_FLAG_RANGE(l0_gate_lr_scale, psg::flags::GreaterThan(0));
ABSL_FLAG(psg::cli::L0GateOptimizer, l0_gate_optimizer, psg::cli::L0GateOptimizer::kAdam,
          "L0: adam (the gates' own Adam at --l0_gate_lr, as the reference code for LeNet-5) or sgd (the "
          "weights' optimizer, gate gradients x --l0_gate_lr_scale)");
ABSL_FLAG(double, l0_gate_lr, 1e-3, "L0 with Adam gates: their learning rate at the schedule's peak --lr");
PSG_FLAG_RANGE(l0_gate_lr, psg::flags::GreaterThan(0));

namespace psg::cli {
namespace {

// SNIP's masks from `prune.snip_batches` batches of `gradients`.
absl::StatusOr<prune::MaskSet> SnipMasks(const PruneFromFlags& prune, const engine::ParameterList& params,
                                         const train::GradientPass& gradients) {
  if (!gradients) return absl::InvalidArgumentError("--prune_method=snip needs a gradient pass");
  prune::SnipSaliency snip(params, prune.options.prune_first_last);
  absl::StatusOr<int64_t> ran = gradients(prune.snip_batches, [&snip] { snip.Accumulate(); });
  if (!ran.ok()) return ran.status();
  if (*ran < prune.snip_batches) {
    return absl::InvalidArgumentError(absl::StrCat("--snip_batches=", prune.snip_batches,
                                                   ": the training set has only ", *ran, " batches"));
  }
  return snip.Masks({.sparsity = prune.options.sparsity, .scope = prune.options.scope});
}

std::vector<prune::LayerSparsity> AttachAgp(const PruneFromFlags& prune, const engine::ParameterList& params,
                                            OptimizerFromFlags* optimizer) {
  auto agp = std::make_unique<prune::AgpOptimizer>(std::move(optimizer->optimizer), params, prune.agp);
  std::vector<prune::LayerSparsity> report = agp->masks().Report();
  absl::StrAppendFormat(&optimizer->description,
                        "; gradual magnitude pruning (AGP, %s) of %d covered weights in %d tensors%s from %.2f %% "
                        "at step %d to %.2f %% at step %d, every %d steps, masks kept while training",
                        prune::ScopeName(prune.options.scope), prune::Total(report).size, report.size(),
                        prune.options.prune_first_last ? " (first/last included)" : "",
                        100 * prune.agp.initial_sparsity, prune.agp.start_step, 100 * prune.agp.final_sparsity,
                        prune.agp.end_step, prune.agp.frequency);
  optimizer->optimizer = std::move(agp);
  return report;
}

}  // namespace

absl::StatusOr<PruneFromFlags> ReadPruneFlags() {
  PruneFromFlags out;
  out.options.sparsity = absl::GetFlag(FLAGS_prune_sparsity);
  try {
    prune::CheckSparsity(out.options.sparsity);
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(absl::StrCat("--prune_sparsity: ", e.what()));
  }
  out.options.scope = absl::GetFlag(FLAGS_prune_scope);
  out.options.prune_first_last = absl::GetFlag(FLAGS_prune_first_last);
  out.enabled = out.options.sparsity > 0;
  out.method = absl::GetFlag(FLAGS_prune_method);
  if (out.method == PruneMethod::kL0) {
    if (out.enabled) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--prune_method=l0 learns its sparsity (set by --l0_lambda): leave --prune_sparsity at 0, got ",
          out.options.sparsity));
    }
    out.enabled = true;
    out.l0 = {.lambda = absl::GetFlag(FLAGS_l0_lambda),
              .initial_drop = absl::GetFlag(FLAGS_l0_initial_drop),
              .gate_lr_scale = absl::GetFlag(FLAGS_l0_gate_lr_scale),
              .prune_first_last = out.options.prune_first_last};
    if (!std::isfinite(out.l0.lambda) || out.l0.lambda < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--l0_lambda must be finite and >= 0, got ", out.l0.lambda));
    }
    if (!(out.l0.initial_drop > 0 && out.l0.initial_drop < 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--l0_initial_drop must be in (0, 1), got ", out.l0.initial_drop));
    }
    if (!std::isfinite(out.l0.gate_lr_scale) || out.l0.gate_lr_scale <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--l0_gate_lr_scale must be finite and > 0, got ", out.l0.gate_lr_scale));
    }
    out.l0_gates_adam = absl::GetFlag(FLAGS_l0_gate_optimizer) == L0GateOptimizer::kAdam;
    out.l0_gate_lr = absl::GetFlag(FLAGS_l0_gate_lr);
    if (out.l0_gates_adam && out.l0.gate_lr_scale != 1.0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--l0_gate_lr_scale=", out.l0.gate_lr_scale, " scales the gates' gradients under "
          "--l0_gate_optimizer=sgd; Adam's step does not depend on their scale: set --l0_gate_lr"));
    }
  }
  if (out.method != PruneMethod::kMagnitude && !out.enabled) {
    return absl::InvalidArgumentError(absl::StrCat("--prune_method=", AbslUnparseFlag(out.method),
                                                   " needs --prune_sparsity > 0 (the final sparsity)"));
  }
  out.snip_batches = absl::GetFlag(FLAGS_snip_batches);
  if (out.snip_batches < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--snip_batches must be >= 1, got ", out.snip_batches));
  }
  out.agp = {.initial_sparsity = absl::GetFlag(FLAGS_agp_initial_sparsity),
             .final_sparsity = out.options.sparsity,
             .start_step = absl::GetFlag(FLAGS_agp_start_step),
             .end_step = absl::GetFlag(FLAGS_agp_end_step),
             .frequency = absl::GetFlag(FLAGS_agp_frequency),
             .scope = out.options.scope,
             .prune_first_last = out.options.prune_first_last};
  if (out.method == PruneMethod::kAgp) {
    try {
      prune::CheckAgpOptions(out.agp);
    } catch (const std::invalid_argument& e) {
      return absl::InvalidArgumentError(absl::StrCat("--agp_*: ", e.what()));
    }
  }
  return out;
}

absl::Status CheckPruneSchedule(const PruneFromFlags& prune, int64_t total_steps) {
  if (!prune.enabled || prune.method != PruneMethod::kAgp || prune.agp.end_step < total_steps) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("--agp_end_step (", prune.agp.end_step,
                                                 ") must be below the run's total optimizer steps (",
                                                 total_steps, "), or the final sparsity is never reached"));
}

absl::StatusOr<std::vector<prune::LayerSparsity>> AttachPruning(const PruneFromFlags& prune,
                                                               const engine::ParameterList& params,
                                                               OptimizerFromFlags* optimizer,
                                                               const train::GradientPass& gradients) {
  io::Json& json = optimizer->json;
  json["prune_sparsity"] = prune.options.sparsity;
  json["prune_scope"] = prune::ScopeName(prune.options.scope);
  json["prune_first_last"] = prune.options.prune_first_last;
  json["prune_method"] = AbslUnparseFlag(prune.method);
  if (prune.method == PruneMethod::kSnip) {
    json["snip_batches"] = prune.snip_batches;
  } else if (prune.method == PruneMethod::kAgp) {
    json["agp_initial_sparsity"] = prune.agp.initial_sparsity;
    json["agp_start_step"] = prune.agp.start_step;
    json["agp_end_step"] = prune.agp.end_step;
    json["agp_frequency"] = prune.agp.frequency;
  } else if (prune.method == PruneMethod::kL0) {
    json["l0_lambda"] = prune.l0.lambda;
    json["l0_initial_drop"] = prune.l0.initial_drop;
    json["l0_gate_lr_scale"] = prune.l0.gate_lr_scale;
  }
  if (!prune.enabled) return std::vector<prune::LayerSparsity>();
  if (prune.method == PruneMethod::kL0) {
    absl::StrAppendFormat(&optimizer->description,
                          "; L0 regularization (hard concrete gates, Louizos et al. 2018) of the covered weights%s: "
                          "lambda %g per expected nonzero weight, initial drop rate %g, gate learning rate x%g",
                          prune.options.prune_first_last ? " (first/last included)" : "", prune.l0.lambda,
                          prune.l0.initial_drop, prune.l0.gate_lr_scale);
    return std::vector<prune::LayerSparsity>();
  }
  std::string how = "by magnitude";
  prune::MaskSet masks;
  try {
    if (prune.method == PruneMethod::kAgp) return AttachAgp(prune, params, optimizer);
    if (prune.method == PruneMethod::kSnip) {
      absl::StatusOr<prune::MaskSet> snip = SnipMasks(prune, params, gradients);
      if (!snip.ok()) return snip.status();
      masks = *std::move(snip);
      how = absl::StrFormat("by SNIP saliency |w * g| (%d batches)", prune.snip_batches);
    } else {
      masks = prune::MagnitudeMasks(params, prune.options);
    }
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
  masks.Apply();
  masks.ZeroMaskedOptimizerState(*optimizer->optimizer);
  std::vector<prune::LayerSparsity> report = masks.Report();
  const prune::LayerSparsity total = prune::Total(report);
  absl::StrAppendFormat(&optimizer->description, "; pruned %s %s to %.2f %% (%d of %d covered weights in %d tensors%s), masks kept while training",
                        prune::ScopeName(prune.options.scope), how, 100 * total.sparsity, total.pruned, total.size,
                        report.size(), prune.options.prune_first_last ? ", first/last included" : "");
  optimizer->optimizer = std::make_unique<prune::MaskedOptimizer>(std::move(optimizer->optimizer), std::move(masks));
  return report;
}

std::unique_ptr<prune::L0Gates> MakeL0Gates(const PruneFromFlags& prune, const engine::ParameterList& params,
                                            uint64_t seed) {
  if (!prune.enabled || prune.method != PruneMethod::kL0) return nullptr;
  prune::L0Options options = prune.l0;
  options.seed = seed;
  return std::make_unique<prune::L0Gates>(params, options);
}

void AddL0GateOptimizer(const PruneFromFlags& prune, prune::L0Gates* gates, double base_lr,
                        OptimizerFromFlags* optimizer) {
  if (gates == nullptr) return;
  optimizer->json["l0_gate_optimizer"] =
      AbslUnparseFlag(prune.l0_gates_adam ? L0GateOptimizer::kAdam : L0GateOptimizer::kSgd);
  if (!prune.l0_gates_adam) return;
  optimizer->json["l0_gate_lr"] = prune.l0_gate_lr;
  auto group = std::make_unique<engine::OptimizerGroup>();
  group->Add(std::move(optimizer->optimizer), 1.0f);
  group->Add(std::make_unique<engine::Adam>(gates->parameters(), engine::AdamOptions{}),
             static_cast<float>(prune.l0_gate_lr / base_lr));
  optimizer->optimizer = std::move(group);
  absl::StrAppendFormat(&optimizer->description, "; L0 gates by Adam at lr %g (following the schedule)",
                        prune.l0_gate_lr);
}

}  // namespace psg::cli
