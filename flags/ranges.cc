#include "flags/ranges.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace psg::flags {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Flag name -> ranges declared for it (one per definition; a program links
// one definition of each flag).
std::multimap<std::string, Range>& Registry() {
  static auto* registry = new std::multimap<std::string, Range>;
  return *registry;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

template <typename T>
std::optional<double> ValueAs(const absl::CommandLineFlag& flag) {
  if (!flag.IsOfType<T>()) return std::nullopt;
  const auto value = flag.TryGet<T>();  // absl::optional (Debian pins the absl types)
  if (!value.has_value()) return std::nullopt;
  return static_cast<double>(*value);
}

// The flag's value when it is a number, an unset std::optional<double> flag
// as an empty value inside; nullopt when the flag is not numeric.
std::optional<std::optional<double>> NumericValue(const absl::CommandLineFlag& flag) {
  for (auto get : {ValueAs<int32_t>, ValueAs<int64_t>, ValueAs<uint32_t>, ValueAs<uint64_t>,
                   ValueAs<int16_t>, ValueAs<uint16_t>, ValueAs<double>, ValueAs<float>}) {
    if (std::optional<double> value = get(flag)) return value;
  }
  if (flag.IsOfType<std::optional<double>>()) {
    const auto value = flag.TryGet<std::optional<double>>();
    return value.has_value() ? *value : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

bool Range::Contains(double value) const {
  if (!std::isfinite(value)) return false;
  const bool above = min_open ? value > min : value >= min;
  const bool below = max_open ? value < max : value <= max;
  return above && below;
}

std::string Range::Describe() const {
  return absl::StrCat(min_open ? "(" : "[", Number(min), ", ", Number(max), max_open ? ")" : "]");
}

Range AtLeast(double min) { return {min, kInf, false, true}; }
Range GreaterThan(double min) { return {min, kInf, true, true}; }
Range Between(double min, double max) { return {min, max, false, false}; }
Range FromUpTo(double min, double max) { return {min, max, false, true}; }
Range AnyFinite() { return {-kInf, kInf, true, true}; }

bool RegisterRange(const char* name, const Range& range) {
  Registry().emplace(name, range);
  return true;
}

absl::Status CheckFlagRanges() {
  std::vector<std::string> errors;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::optional<std::optional<double>> numeric = NumericValue(*flag);
    if (!numeric.has_value()) continue;
    const auto [begin, end] = Registry().equal_range(std::string(name));
    if (begin == end) {
      if (absl::StrContains(flag->Filename(), "absl/")) continue;  // absl's own
      errors.push_back(absl::StrCat("--", name, " (", flag->Filename(),
                                    ") has no declared range (PSG_FLAG_RANGE, flags/ranges.h)"));
      continue;
    }
    const std::optional<double> value = *numeric;
    if (!value.has_value()) continue;  // an optional flag left unset
    for (auto it = begin; it != end; ++it) {
      if (!it->second.Contains(*value)) {
        errors.push_back(absl::StrCat("--", name, "=", flag->CurrentValue(),
                                      " is out of range: allowed ", it->second.Describe()));
      }
    }
  }
  if (errors.empty()) return absl::OkStatus();
  std::sort(errors.begin(), errors.end());  // GetAllFlags has no order
  return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
}

}  // namespace psg::flags
