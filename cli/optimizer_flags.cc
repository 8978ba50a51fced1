#include "cli/optimizer_flags.h"

#include <stdexcept>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/psg_bits_flag.h"
#include "cli/psg_lambda_flag.h"
#include "compression/quant_grid.h"
#include "engine/adam.h"
#include "flags/ranges.h"
#include "psg/psgd.h"

ABSL_FLAG(psg::cli::OptimizerKind, optimizer, psg::cli::OptimizerKind::kSgd,
          "sgd, adam (torch's defaults: betas 0.9, 0.999, eps 1e-8) or psgd");
ABSL_FLAG(psg::psgd::TargetKind, psg_target, psg::psgd::TargetKind::kGrid,
          "PSGD target: grid (b-bit quantization) or zero (pruning)");
ABSL_FLAG(double, psg_eps, 0.0, "PSGD eps in s(w) = |w - target| + eps (released: 0)");
PSG_FLAG_RANGE(psg_eps, psg::flags::AtLeast(0));
ABSL_FLAG(bool, psg_first_last, true, "PSGD also covers the first conv and the last FC (weight and bias)");
ABSL_FLAG(bool, psg_widen_first_last, true, "first/last layers use an 8-bit grid when --psg_bits < 4");
ABSL_FLAG(bool, psg_per_channel, false, "one grid per output channel instead of per tensor");
ABSL_FLAG(psg::compression::GridRange, psg_range, psg::compression::GridRange::kRestricted,
          "grid: restricted (-qmax..qmax), full or asymmetric");
ABSL_FLAG(psg::psgd::RangeEstimate, psg_range_estimate, psg::psgd::RangeEstimate::kMovingAverage,
          "grid range: ema (momentum 0.1, released) or exact max-abs");
ABSL_FLAG(psg::psgd::PsgdMethod, psg_method, psg::psgd::PsgdMethod::kSgd,
          "PSGD update: sgd (released) or adam (lr * 1e-2 * lambda)");
ABSL_FLAG(bool, psg_scale_weight_decay, false, "scale weight decay too (released: added after scaling)");

namespace psg::cli {

namespace {

using psgd::GridRange;
using psgd::Psgd;
using psgd::PsgdOptions;
using psgd::RangeEstimate;

absl::StatusOr<PsgdOptions> PsgdOptionsFromFlags(float momentum, bool nesterov, float weight_decay) {
  PsgdOptions o;
  o.scaling.lambda = absl::GetFlag(FLAGS_psg_lambda);
  o.scaling.eps = absl::GetFlag(FLAGS_psg_eps);
  o.target = absl::GetFlag(FLAGS_psg_target);
  o.grid.range = absl::GetFlag(FLAGS_psg_range);
  o.grid.estimate = absl::GetFlag(FLAGS_psg_range_estimate);
  o.grid.per_channel = absl::GetFlag(FLAGS_psg_per_channel);
  o.policy.bits = absl::GetFlag(FLAGS_psg_bits);
  o.policy.cover_first_last = absl::GetFlag(FLAGS_psg_first_last);
  o.policy.widen_first_last = absl::GetFlag(FLAGS_psg_widen_first_last);
  o.method = absl::GetFlag(FLAGS_psg_method);
  o.momentum = momentum;
  o.nesterov = nesterov;
  o.weight_decay = weight_decay;
  o.scale_weight_decay = absl::GetFlag(FLAGS_psg_scale_weight_decay);
  return o;
}

}  // namespace

absl::StatusOr<OptimizerFromFlags> MakeOptimizer(const engine::ParameterList& trainable,
                                                 float momentum, bool nesterov,
                                                 float weight_decay) {
  const OptimizerKind kind = absl::GetFlag(FLAGS_optimizer);
  OptimizerFromFlags out;
  try {
    if (kind == OptimizerKind::kSgd) {
      out.optimizer = std::make_unique<engine::Sgd>(
          trainable, engine::SgdOptions{momentum, 0.0f, weight_decay, nesterov});
      out.description = "SGD";
      out.json = {{"optimizer", "sgd"}};
      return out;
    }
    if (kind == OptimizerKind::kAdam) {
      out.optimizer = std::make_unique<engine::Adam>(trainable, engine::AdamOptions{.weight_decay = weight_decay});
      out.description = "Adam";
      out.json = {{"optimizer", "adam"}};
      return out;
    }
    absl::StatusOr<PsgdOptions> o = PsgdOptionsFromFlags(momentum, nesterov, weight_decay);
    if (!o.ok()) return o.status();
    auto psgd = std::make_unique<Psgd>(trainable, *o);
    Psgd* raw = psgd.get();
    out.epoch_metrics = [raw] {
      std::map<std::string, double> metrics;
      const std::vector<psgd::TensorDiagnostics> diagnostics = raw->Diagnostics();
      double distance_sum = 0;
      for (const psgd::TensorDiagnostics& d : diagnostics) {
        metrics["qmse/" + d.name] = d.quantization_mse;
        distance_sum += d.mean_distance;
      }
      if (!diagnostics.empty()) metrics["psg_mean_distance"] = distance_sum / diagnostics.size();
      return metrics;
    };
    int covered = 0;
    for (const compression::Coverage& c : raw->coverage()) covered += c.covered;
    out.description =
        absl::StrFormat("PSGD: target %s, %d bits, lambda %g, eps %g, %d covered tensors, update %s",
                        absl::UnparseFlag(absl::GetFlag(FLAGS_psg_target)), o->policy.bits, o->scaling.lambda,
                        o->scaling.eps, covered, absl::UnparseFlag(absl::GetFlag(FLAGS_psg_method)));
    out.json = {{"optimizer", "psgd"},
                {"psg_target", absl::UnparseFlag(absl::GetFlag(FLAGS_psg_target))},
                {"psg_bits", o->policy.bits},
                {"psg_lambda", absl::GetFlag(FLAGS_psg_lambda)},
                {"psg_eps", absl::GetFlag(FLAGS_psg_eps)},
                {"psg_first_last", o->policy.cover_first_last},
                {"psg_per_channel", o->grid.per_channel},
                {"psg_range", absl::UnparseFlag(absl::GetFlag(FLAGS_psg_range))},
                {"psg_range_estimate", absl::UnparseFlag(absl::GetFlag(FLAGS_psg_range_estimate))},
                {"psg_method", absl::UnparseFlag(absl::GetFlag(FLAGS_psg_method))}};
    out.optimizer = std::move(psgd);
    return out;
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

}  // namespace psg::cli
