// Enum-valued command-line flags: each enum's value names written once, in
// the AbslParseFlag / AbslUnparseFlag pair absl looks up for the flag's type,
// so a bad value fails while the command line is parsed, in absl's message
// naming the flag and the value, followed by the names allowed:
//   "Illegal value 'channl' specified for flag 'granularity'; expected one of: tensor, channel"
// and a result file records the value by its name (absl::UnparseFlag).
//
//   // Beside the enum, its names (the package's own, e.g. for result files):
//   inline constexpr EnumName<Rounding> kRoundingNames[] = {{"half_even", Rounding::kHalfEven},
//                                                           {"half_away", Rounding::kHalfAway}};
//   // In the enum's namespace (found by argument-dependent lookup), where flags are defined:
//   PSG_ENUM_FLAG(Rounding, kRoundingNames)
//   // Then anywhere:
//   ABSL_FLAG(psg::quant::Rounding, rounding, psg::quant::Rounding::kHalfEven, "half_even or half_away");
//   const std::string name = absl::UnparseFlag(absl::GetFlag(FLAGS_rounding));  // "half_even"
#ifndef PSG_FLAGS_ENUM_FLAG_H_
#define PSG_FLAGS_ENUM_FLAG_H_

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace psg::flags {

template <typename Enum>
using EnumName = std::pair<absl::string_view, Enum>;
template <typename Enum>
using EnumNames = absl::Span<const EnumName<Enum>>;

// "a, b, c": the names in their order.
template <typename Enum>
std::string JoinEnumNames(EnumNames<Enum> names) {
  std::string out;
  for (const auto& [name, unused] : names) absl::StrAppend(&out, out.empty() ? "" : ", ", name);
  return out;
}

// The value named `text` (exactly), or false with *error listing the names.
template <typename Enum>
bool ParseEnum(absl::string_view text, EnumNames<Enum> names, Enum* value, std::string* error) {
  for (const auto& [name, v] : names) {
    if (name == text) {
      *value = v;
      return true;
    }
  }
  *error = absl::StrCat("expected one of: ", JoinEnumNames(names));
  return false;
}

// The name of `value`; its number if it has none (a value cast from an int).
template <typename Enum>
std::string UnparseEnum(Enum value, EnumNames<Enum> names) {
  for (const auto& [name, v] : names) {
    if (v == value) return std::string(name);
  }
  return absl::StrCat(static_cast<int>(value));
}

}  // namespace psg::flags

// AbslParseFlag and AbslUnparseFlag for `Enum` with the names `names` (an
// array of EnumName<Enum>); put it in Enum's namespace, once per enum.
#define PSG_ENUM_FLAG(Enum, names)                                                      \
  inline bool AbslParseFlag(absl::string_view text, Enum* value, std::string* error) { \
    return ::psg::flags::ParseEnum<Enum>(text, names, value, error);                    \
  }                                                                                     \
  inline std::string AbslUnparseFlag(Enum value) { return ::psg::flags::UnparseEnum<Enum>(value, names); }

#endif  // PSG_FLAGS_ENUM_FLAG_H_
