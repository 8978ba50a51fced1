#include "flags/list_flags.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace psg::flags {
namespace {

absl::Status Bad(absl::string_view flag, absl::string_view item, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", absl::CHexEscape(item), "' ", why));
}

// `value` of `item` checked against `range` and the previous element.
absl::Status CheckElement(absl::string_view flag, absl::string_view item, double value,
                          const Range& range, Order order, const double* previous) {
  if (!range.Contains(value)) return Bad(flag, item, absl::StrCat("is out of range: allowed ", range.Describe()));
  if (order == Order::kIncreasing && previous != nullptr && !(value > *previous)) {
    return Bad(flag, item, absl::StrCat("does not increase on the element before it (", *previous, ")"));
  }
  return absl::OkStatus();
}

bool Parse(absl::string_view item, double* value) { return absl::SimpleAtod(item, value); }
bool Parse(absl::string_view item, int* value) { return absl::SimpleAtoi(item, value); }

// Each item parsed as a T (the whole item: absl would also take surrounding
// spaces), then checked. SimpleAtod takes "inf" and "nan": the range check
// rejects them.
template <typename T>
absl::StatusOr<std::vector<T>> ParseEach(absl::string_view flag, const std::vector<std::string>& items,
                                         const Range& range, Order order, absl::string_view not_parsed) {
  std::vector<T> values;
  for (const std::string& item : items) {
    T value{};
    if (item.empty() || absl::ascii_isspace(item.front()) || absl::ascii_isspace(item.back()) ||
        !Parse(item, &value)) {
      return Bad(flag, item, not_parsed);
    }
    const double previous = values.empty() ? 0 : values.back();
    if (absl::Status s = CheckElement(flag, item, value, range, order, values.empty() ? nullptr : &previous);
        !s.ok()) {
      return s;
    }
    values.push_back(value);
  }
  return values;
}

}  // namespace

absl::StatusOr<std::vector<double>> ParseNumbers(absl::string_view flag,
                                                 const std::vector<std::string>& items,
                                                 const Range& range, Order order) {
  return ParseEach<double>(flag, items, range, order, "is not a number");
}

absl::StatusOr<std::vector<int>> ParseIntegers(absl::string_view flag,
                                               const std::vector<std::string>& items,
                                               const Range& range, Order order) {
  return ParseEach<int>(flag, items, range, order, "is not a whole number");
}

absl::StatusOr<std::vector<std::string>> ParseChoices(absl::string_view flag,
                                                      const std::vector<std::string>& items,
                                                      const std::vector<std::string>& choices) {
  std::set<std::string> seen;
  for (const std::string& item : items) {
    if (std::find(choices.begin(), choices.end(), item) == choices.end()) {
      return Bad(flag, item, absl::StrCat("is not one of ", absl::StrJoin(choices, ", ")));
    }
    if (!seen.insert(item).second) return Bad(flag, item, "is given twice");
  }
  return items;
}

absl::StatusOr<std::vector<NamedValue>> ParseNamedValues(absl::string_view flag,
                                                         const std::vector<std::string>& items) {
  std::vector<NamedValue> values;
  std::set<std::string> names;
  for (const std::string& item : items) {
    const size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == item.size()) {
      return Bad(flag, item, "is not NAME=VALUE");
    }
    NamedValue v{item.substr(0, equals), item.substr(equals + 1)};
    if (!names.insert(v.name).second) return Bad(flag, item, absl::StrCat("repeats the name '", v.name, "'"));
    values.push_back(std::move(v));
  }
  return values;
}

std::vector<std::string> SplitList(absl::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

}  // namespace psg::flags
