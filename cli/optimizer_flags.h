// The optimizer of a training binary from flags: plain SGD or Adam, or PSGD with its
// target, bit-width, lambda_s, eps and layer policy (psg-method.md; defaults
// follow the released code), plus PSGD's per-epoch diagnostics for the
// trainer's metrics.
//
//   --optimizer=psgd --psg_target=grid --psg_bits=4 --psg_lambda=150 --psg_eps=0
//   --psg_first_last=true --psg_per_channel=false --psg_range=restricted
//   --psg_range_estimate=ema --psg_method=sgd --psg_scale_weight_decay=false
#ifndef PSG_CLI_OPTIMIZER_FLAGS_H_
#define PSG_CLI_OPTIMIZER_FLAGS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/optimizer.h"
#include "engine/parameter.h"
#include "flags/enum_flag.h"
#include "io/json_writer.h"

namespace psg::cli {

// The --optimizer choices.
enum class OptimizerKind { kSgd, kAdam, kPsgd };
inline constexpr flags::EnumName<OptimizerKind> kOptimizerKindNames[] = {
    {"sgd", OptimizerKind::kSgd}, {"adam", OptimizerKind::kAdam}, {"psgd", OptimizerKind::kPsgd}};
PSG_ENUM_FLAG(OptimizerKind, kOptimizerKindNames)

struct OptimizerFromFlags {
  std::unique_ptr<engine::Optimizer> optimizer;
  // Per-epoch metrics: for PSGD the mean distance of covered weights to their
  // targets and each covered layer's quantization MSE at its bit-width.
  std::function<std::map<std::string, double>()> epoch_metrics;
  std::string description;  // one line for the log
  io::Json json;            // the flags as a JSON object
};

// `momentum`, `nesterov` and `weight_decay` are the shared SGD settings.
absl::StatusOr<OptimizerFromFlags> MakeOptimizer(const engine::ParameterList& trainable,
                                                 float momentum, bool nesterov,
                                                 float weight_decay);

}  // namespace psg::cli

#endif  // PSG_CLI_OPTIMIZER_FLAGS_H_
