// Every numeric command-line flag of the toolkit has an allowed range,
// declared next to the flag and checked at start-up, before any data is read
// or any step taken: a value outside it is an error naming the flag, the
// value and the range (--batch_size=0 used to end in SIGFPE, --momentum=5 in
// a silently diverging run). NaN and infinities are outside every range.
//
//   ABSL_FLAG(int, batch_size, 128, "batch size");
//   PSG_FLAG_RANGE(batch_size, psg::flags::AtLeast(1));
//   ...
//   absl::ParseCommandLine(argc, argv);
//   if (absl::Status s = psg::flags::CheckFlagRanges(); !s.ok()) return Fail(s.message());
//   // "--batch_size=0 is out of range: allowed [1, inf)"
//
// A std::optional<double> flag is checked when set.
//
// CheckFlagRanges also fails for a numeric flag of the program (one not
// defined by absl itself) that has no declared range, so that a new flag
// cannot skip the check: every command's smoke test would report it.
#ifndef PSG_FLAGS_RANGES_H_
#define PSG_FLAGS_RANGES_H_

#include <string>

#include "absl/status/status.h"

namespace psg::flags {

struct Range {
  double min = 0, max = 0;
  bool min_open = false, max_open = false;  // excluded ends
  bool Contains(double value) const;        // false for NaN and infinities
  std::string Describe() const;             // "[1, inf)", "(0, 1)", ...
};

Range AtLeast(double min);                // [min, inf)
Range GreaterThan(double min);            // (min, inf)
Range Between(double min, double max);    // [min, max]
Range FromUpTo(double min, double max);   // [min, max)
Range AnyFinite();                        // (-inf, inf)

// Declares the range of flag `name` (use PSG_FLAG_RANGE); returns true.
bool RegisterRange(const char* name, const Range& range);

// Checks every numeric flag of this program against its range.
absl::Status CheckFlagRanges();

}  // namespace psg::flags

#define PSG_FLAG_RANGE(name, range) \
  [[maybe_unused]] static const bool psg_flag_range_##name = ::psg::flags::RegisterRange(#name, range)

#endif  // PSG_FLAGS_RANGES_H_
