// The list-flag parsers (flags/list_flags.h) on an arbitrary flag value, as
// absl splits it at commas: what they accept satisfies what they promise.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "flags/list_flags.h"

namespace {

void CheckTrue(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace flags = psg::flags;
  const std::vector<std::string> items =
      flags::SplitList(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (auto v = flags::ParseNumbers("milestones", items, flags::GreaterThan(0), flags::Order::kIncreasing); v.ok()) {
    for (size_t i = 0; i < v->size(); ++i) {
      CheckTrue(std::isfinite((*v)[i]) && (*v)[i] > 0 && (i == 0 || (*v)[i] > (*v)[i - 1]));
    }
  }
  if (auto v = flags::ParseNumbers("sparsity", items, flags::Range{0, 1, true, true}); v.ok()) {
    for (double s : *v) CheckTrue(s > 0 && s < 1);
  }
  if (auto v = flags::ParseIntegers("bits", items, flags::Between(2, 8)); v.ok()) {
    for (int b : *v) CheckTrue(b >= 2 && b <= 8);
  }
  if (auto v = flags::ParseChoices("scope", items, {"layer", "global"}); v.ok()) CheckTrue(v->size() <= 2);
  if (auto v = flags::ParseNamedValues("checkpoints", items); v.ok()) {
    for (const flags::NamedValue& nv : *v) CheckTrue(!nv.name.empty() && !nv.value.empty());
  }
  return 0;
}
