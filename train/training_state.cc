#include "train/training_state.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/context.h"
#include "io/checkpoint.h"

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

}  // namespace

absl::Status SaveTrainingState(const std::string& path, const engine::ParameterList& params,
                               engine::Optimizer* optimizer, const RunPosition& position,
                               const std::map<std::string, std::string>& metadata) {
  engine::Stream().wait();
  io::CheckpointWriter writer;
  for (const engine::Parameter* p : params) {
    if (absl::Status s = writer.AddF32(p->name, Shape(p->value), p->value.ToPlain()); !s.ok()) {
      return s;
    }
  }
  if (optimizer != nullptr) {
    for (const auto& [name, tensor] : optimizer->State()) {
      if (absl::Status s = writer.AddF32("optim/" + name, Shape(tensor), tensor.ToPlain());
          !s.ok()) {
        return s;
      }
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
                                              engine::Optimizer* optimizer) {
  absl::StatusOr<io::Checkpoint> ckpt = io::Checkpoint::Read(path);
  if (!ckpt.ok()) return ckpt.status();
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

}  // namespace psg::train
