#include "train/training_state.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/context.h"
#include "engine/finite.h"
#include "io/checkpoint.h"
#include "io/json_writer.h"

namespace psg::train {

namespace {

constexpr char kPositionTensor[] = "rng/run_position";  // epoch, batch, step, seed

std::vector<int64_t> Shape(const engine::Tensor& t) {
  const engine::Dims d = t.dims();
  return std::vector<int64_t>(d.begin(), d.end());
}

absl::Status Restore(const io::Checkpoint& ckpt, const std::string& name,
                     const engine::Tensor& into) {
  absl::StatusOr<absl::Span<const float>> values = ckpt.F32(name, Shape(into));
  if (!values.ok()) return values.status();
  into.CopyFromPlain(*values);
  return absl::OkStatus();
}

// Adds `values` as `name`, refusing NaN and infinities.
absl::Status AddFinite(io::CheckpointWriter& writer, const std::string& path,
                       const std::string& name, const engine::Tensor& tensor) {
  const std::vector<float> values = tensor.ToPlain();
  if (const int64_t bad = engine::FirstNonFinite(values); bad >= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "not saving checkpoint '", path, "': tensor '", name, "' holds ", values[bad],
        " at element ", bad, " of ", io::ShapeString(Shape(tensor)),
        " (the run diverged; the last checkpoint written is kept)"));
  }
  return writer.AddF32(name, Shape(tensor), values);
}

// The model a checkpoint says it holds: its "model" metadata, else the
// "model" of its "flags" metadata (checkpoints written by //experiments:train
// before the "model" key), else none.
std::optional<std::string> RecordedModel(const io::Checkpoint& ckpt) {
  const auto& metadata = ckpt.metadata();
  if (auto it = metadata.find(kModelMetadata); it != metadata.end()) return it->second;
  auto flags = metadata.find("flags");
  if (flags == metadata.end()) return std::nullopt;
  const io::Json json = io::Json::parse(flags->second, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("model") && json["model"].is_string()) {
    return json["model"].get<std::string>();
  }
  return std::nullopt;
}

absl::Status CheckInvariants(const io::Checkpoint& ckpt,
                             const std::map<std::string, std::string>& invariants) {
  auto it = ckpt.metadata().find(kResumeInvariantsMetadata);
  if (it == ckpt.metadata().end()) return absl::OkStatus();  // an older checkpoint
  const io::Json saved = io::Json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (!saved.is_object()) {
    return absl::DataLossError(absl::StrCat("checkpoint '", ckpt.source(), "': metadata \"",
                                            kResumeInvariantsMetadata, "\" is not a JSON object"));
  }
  std::vector<std::string> differ;
  for (const auto& [key, value] : invariants) {
    if (!saved.contains(key) || !saved[key].is_string()) continue;
    const std::string then = saved[key].get<std::string>();
    if (then != value) differ.push_back(absl::StrCat("--", key, "=", then, " (now ", value, ")"));
  }
  if (differ.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot resume from '", ckpt.source(), "': its position (epoch, batch, step) was saved under ",
      absl::StrJoin(differ, ", "),
      ", and would mean other batches or learning rates now; resume with the checkpoint's "
      "settings, or start a new run (--init_from) with the new ones"));
}

}  // namespace

absl::Status SaveTrainingState(const std::string& path, const engine::ParameterList& params,
                               engine::Optimizer* optimizer, const RunPosition& position,
                               const std::map<std::string, std::string>& metadata) {
  engine::Stream().wait();
  io::CheckpointWriter writer;
  for (const engine::Parameter* p : params) {
    if (absl::Status s = AddFinite(writer, path, p->name, p->value); !s.ok()) return s;
  }
  if (optimizer != nullptr) {
    for (const auto& [name, tensor] : optimizer->State()) {
      if (absl::Status s = AddFinite(writer, path, "optim/" + name, tensor); !s.ok()) return s;
    }
  }
  const std::vector<uint64_t> pos = {static_cast<uint64_t>(position.epoch),
                                     static_cast<uint64_t>(position.batch),
                                     static_cast<uint64_t>(position.step), position.seed};
  if (absl::Status s = writer.AddU64(kPositionTensor, {4}, pos); !s.ok()) return s;
  for (const auto& [key, value] : metadata) {
    if (absl::Status s = writer.SetMetadata(key, value); !s.ok()) return s;
  }
  if (absl::Status s = writer.SetMetadata("epoch", absl::StrCat(position.epoch)); !s.ok()) return s;
  return writer.WriteAtomically(path);
}

absl::StatusOr<RunPosition> LoadTrainingState(const std::string& path,
                                              const engine::ParameterList& params,
                                              engine::Optimizer* optimizer,
                                              const LoadOptions& options) {
  absl::StatusOr<io::Checkpoint> ckpt = io::Checkpoint::Read(path);
  if (!ckpt.ok()) return ckpt.status();
  if (!options.model.empty()) {
    const std::optional<std::string> recorded = RecordedModel(*ckpt);
    if (recorded.has_value() && *recorded != options.model) {
      return absl::FailedPreconditionError(absl::StrCat(
          "checkpoint '", path, "' holds a ", *recorded, " model, not ", options.model,
          ": pass --model=", *recorded, " (its tensors fit only the model that wrote them)"));
    }
  }
  if (absl::Status s = CheckInvariants(*ckpt, options.invariants); !s.ok()) return s;
  if (!options.allow_nonfinite) {
    if (absl::Status s = ckpt->CheckFinite(); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(s.message(),
                                                 ". --allow_nonfinite_checkpoint loads it anyway, "
                                                 "to look at it"));
    }
  }
  for (const engine::Parameter* p : params) {
    if (absl::Status s = Restore(*ckpt, p->name, p->value); !s.ok()) return s;
  }
  absl::StatusOr<absl::Span<const uint64_t>> pos = ckpt->U64(kPositionTensor, {4});
  if (!pos.ok()) return pos.status();
  RunPosition position{static_cast<int64_t>((*pos)[0]), static_cast<int64_t>((*pos)[1]),
                       static_cast<int64_t>((*pos)[2]), (*pos)[3]};
  if (optimizer != nullptr) {
    for (const auto& [name, tensor] : optimizer->State()) {
      if (absl::Status s = Restore(*ckpt, "optim/" + name, tensor); !s.ok()) return s;
    }
    optimizer->set_steps(position.step);
  }
  return position;
}

absl::StatusOr<int> LoadOptimizerState(const std::string& path, engine::Optimizer& optimizer,
                                       const std::function<bool(const std::string&)>& may_be_absent) {
  absl::StatusOr<io::Checkpoint> ckpt = io::Checkpoint::Read(path);
  if (!ckpt.ok()) return ckpt.status();
  if (absl::Status s = ckpt->CheckFinite(); !s.ok()) return s;
  absl::StatusOr<absl::Span<const uint64_t>> pos = ckpt->U64(kPositionTensor, {4});
  if (!pos.ok()) return pos.status();
  int restored = 0;
  for (const auto& [name, tensor] : optimizer.State()) {
    const std::string stored = "optim/" + name;
    if (!ckpt->Has(stored)) {
      if (may_be_absent(name)) continue;
      return absl::NotFoundError(absl::StrCat(
          "checkpoint '", path, "' has no optimizer state '", name,
          "': it was trained with another optimizer (train the starting model with the optimizer "
          "whose state this run continues, e.g. --optimizer=adam for --psg_method=adam)"));
    }
    if (absl::Status s = Restore(*ckpt, stored, tensor); !s.ok()) return s;
    ++restored;
  }
  optimizer.set_steps(static_cast<int64_t>((*pos)[2]));
  return restored;
}

}  // namespace psg::train
