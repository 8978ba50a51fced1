// Compares two checkpoints tensor by tensor: prints the maximum absolute
// difference of every tensor that differs, and exits 0 only if both files
// hold the same tensors with equal values (metadata is not compared).
//
//   bazel run //tools:checkpoint_diff -- a.safetensors b.safetensors [--prefix=layer1.]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "io/checkpoint.h"

ABSL_FLAG(std::string, prefix, "", "only compare tensors whose name starts with this");
ABSL_FLAG(bool, verbose, false, "print every compared tensor, not only the differing ones");

namespace {

using psg::io::Checkpoint;
using psg::io::DType;

// Largest |a - b| over the tensor; -1 when the tensors are not comparable.
template <typename T>
double MaxDifference(const Checkpoint& a, const Checkpoint& b, const std::string& name) {
  auto x = a.Get<T>(name);
  auto y = b.Get<T>(name);
  if (!x.ok() || !y.ok() || x->size() != y->size()) return -1;
  double max = 0;
  for (size_t i = 0; i < x->size(); ++i) {
    max = std::max(max, std::abs(static_cast<double>((*x)[i]) - static_cast<double>((*y)[i])));
  }
  return max;
}

double MaxDifference(DType dtype, const Checkpoint& a, const Checkpoint& b, const std::string& name) {
  switch (dtype) {
    case DType::kF32: return MaxDifference<float>(a, b, name);
    case DType::kF64: return MaxDifference<double>(a, b, name);
    case DType::kI32: return MaxDifference<int32_t>(a, b, name);
    case DType::kI64: return MaxDifference<int64_t>(a, b, name);
    case DType::kU8: return MaxDifference<uint8_t>(a, b, name);
    case DType::kU64: return MaxDifference<uint64_t>(a, b, name);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 3) {
    std::fprintf(stderr, "usage: checkpoint_diff A.safetensors B.safetensors [--prefix=...]\n");
    return 2;
  }
  auto a = Checkpoint::Read(args[1]);
  auto b = Checkpoint::Read(args[2]);
  for (const auto* c : {&a, &b}) {
    if (!c->ok()) {
      std::fprintf(stderr, "error: %s\n", std::string(c->status().message()).c_str());
      return 2;
    }
  }
  const std::string prefix = absl::GetFlag(FLAGS_prefix);
  int differing = 0, compared = 0;
  for (const psg::io::TensorInfo& info : a->tensors()) {
    if (!absl::StartsWith(info.name, prefix)) continue;
    ++compared;
    const double diff = MaxDifference(info.dtype, *a, *b, info.name);
    if (diff != 0) ++differing;
    if (diff < 0) {
      std::printf("%-48s missing in B or of another dtype/shape\n", info.name.c_str());
    } else if (diff > 0 || absl::GetFlag(FLAGS_verbose)) {
      std::printf("%-48s max |A-B| = %.3g\n", info.name.c_str(), diff);
    }
  }
  for (const psg::io::TensorInfo& info : b->tensors()) {
    if (absl::StartsWith(info.name, prefix) && !a->Has(info.name)) {
      std::printf("%-48s missing in A\n", info.name.c_str());
      ++differing;
    }
  }
  std::printf("%d of %d tensors differ\n", differing, compared);
  return differing == 0 ? 0 : 1;
}
