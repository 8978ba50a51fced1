// Parsing the elements of the toolkit's list flags (absl splits a
// std::vector<std::string> flag at commas), each checked: errors name the
// flag, the element and what is allowed, e.g.
//   "--milestones: '-1' is out of range: allowed (0, inf)".
// Fuzzed by //fuzz:list_flags_fuzzer.
//
//   absl::StatusOr<std::vector<double>> milestones =
//       ParseNumbers("milestones", absl::GetFlag(FLAGS_milestones), GreaterThan(0), Order::kIncreasing);
//   absl::StatusOr<std::vector<int>> bits = ParseIntegers("bits", {"8", "4"}, Between(2, 8));
//   absl::StatusOr<std::vector<NamedValue>> checkpoints =
//       ParseNamedValues("checkpoints", {"SGD=runs/sgd/last.safetensors"});
#ifndef PSG_FLAGS_LIST_FLAGS_H_
#define PSG_FLAGS_LIST_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "flags/ranges.h"

namespace psg::flags {

enum class Order { kAny, kIncreasing };  // kIncreasing: strictly

// Decimal numbers (as strtod reads them, whole element, no spaces), each in
// `range`. An empty list is allowed (the caller decides if it may be).
absl::StatusOr<std::vector<double>> ParseNumbers(absl::string_view flag,
                                                 const std::vector<std::string>& items,
                                                 const Range& range, Order order = Order::kAny);

// Whole numbers (no fraction, no exponent), each in `range`.
absl::StatusOr<std::vector<int>> ParseIntegers(absl::string_view flag,
                                               const std::vector<std::string>& items,
                                               const Range& range, Order order = Order::kAny);

// Each element one of `choices`; no repeats.
absl::StatusOr<std::vector<std::string>> ParseChoices(absl::string_view flag,
                                                      const std::vector<std::string>& items,
                                                      const std::vector<std::string>& choices);

struct NamedValue {
  std::string name, value;
};
// NAME=VALUE elements, both parts non-empty, names distinct.
absl::StatusOr<std::vector<NamedValue>> ParseNamedValues(absl::string_view flag,
                                                         const std::vector<std::string>& items);

// A comma-separated list (as absl splits one): "8,4,,2" -> {"8", "4", "", "2"};
// "" -> {}.
std::vector<std::string> SplitList(absl::string_view text);

}  // namespace psg::flags

#endif  // PSG_FLAGS_LIST_FLAGS_H_
