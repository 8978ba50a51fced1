// Compares two checkpoints tensor by tensor: prints the maximum absolute
// difference and the relative L2 difference |A-B| / |B| of every tensor that
// differs, and exits 0 only if both files hold the same tensors with equal
// values (metadata is not compared) or, with --tolerance, floating-point
// tensors whose relative L2 differences are all at most that.
//
//   bazel run //tools:checkpoint_diff -- a.safetensors b.safetensors [--prefix=layer1.]
//   checkpoint_diff one_rank.safetensors two_ranks.safetensors --tolerance=1e-5
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "io/checkpoint.h"

ABSL_FLAG(std::string, prefix, "", "only compare tensors whose name starts with this");
ABSL_FLAG(bool, verbose, false, "print every compared tensor, not only the differing ones");
ABSL_FLAG(double, tolerance, 0,
          "largest relative L2 difference |A-B| / |B| accepted for a floating-point tensor "
          "(0: values must be equal); integer tensors must always be equal");

namespace {

using psg::io::Checkpoint;
using psg::io::DType;

struct Difference {
  bool comparable = false;
  double max = 0;       // largest |a - b|
  double relative = 0;  // |a - b|_2 / |b|_2 (0 when equal)
};

template <typename T>
Difference Compare(const Checkpoint& a, const Checkpoint& b, const std::string& name) {
  auto x = a.Get<T>(name);
  auto y = b.Get<T>(name);
  Difference d;
  if (!x.ok() || !y.ok() || x->size() != y->size()) return d;
  d.comparable = true;
  double diff_squares = 0, b_squares = 0;
  for (size_t i = 0; i < x->size(); ++i) {
    const double e = static_cast<double>((*x)[i]) - static_cast<double>((*y)[i]);
    d.max = std::max(d.max, std::abs(e));
    diff_squares += e * e;
    b_squares += static_cast<double>((*y)[i]) * static_cast<double>((*y)[i]);
  }
  if (diff_squares > 0) {
    d.relative = b_squares > 0 ? std::sqrt(diff_squares / b_squares) : HUGE_VAL;
  }
  return d;
}

Difference Compare(DType dtype, const Checkpoint& a, const Checkpoint& b, const std::string& name) {
  switch (dtype) {
    case DType::kF32: return Compare<float>(a, b, name);
    case DType::kF64: return Compare<double>(a, b, name);
    case DType::kI32: return Compare<int32_t>(a, b, name);
    case DType::kI64: return Compare<int64_t>(a, b, name);
    case DType::kU8: return Compare<uint8_t>(a, b, name);
    case DType::kU64: return Compare<uint64_t>(a, b, name);
  }
  return {};
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
  const double tolerance = absl::GetFlag(FLAGS_tolerance);
  int differing = 0, compared = 0;
  double worst = 0;
  for (const psg::io::TensorInfo& info : a->tensors()) {
    if (!absl::StartsWith(info.name, prefix)) continue;
    ++compared;
    const Difference d = Compare(info.dtype, *a, *b, info.name);
    const bool floating = info.dtype == DType::kF32 || info.dtype == DType::kF64;
    if (!d.comparable) {
      ++differing;
      std::printf("%-48s missing in B or of another dtype/shape\n", info.name.c_str());
      continue;
    }
    if (floating) worst = std::max(worst, d.relative);
    const bool differs = floating ? d.relative > tolerance : d.max != 0;
    differing += differs;
    if (d.max > 0 || absl::GetFlag(FLAGS_verbose)) {
      std::printf("%-48s max |A-B| = %.3g  relative L2 = %.3g%s\n", info.name.c_str(), d.max,
                  d.relative, differs && tolerance > 0 ? "  (over the tolerance)" : "");
    }
  }
  for (const psg::io::TensorInfo& info : b->tensors()) {
    if (absl::StartsWith(info.name, prefix) && !a->Has(info.name)) {
      std::printf("%-48s missing in A\n", info.name.c_str());
      ++differing;
    }
  }
  std::printf("%d of %d tensors differ%s; largest relative L2 difference %.3g\n", differing,
              compared,
              tolerance > 0 ? absl::StrFormat(" by more than %g", tolerance).c_str() : "", worst);
  return differing == 0 ? 0 : 1;
}
