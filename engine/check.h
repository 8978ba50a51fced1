// Argument checking for the engine: a failed check throws std::invalid_argument
// whose message names the caller's context, so bad shapes and flags surface as
// one clear line instead of a oneDNN status code.
//
//   PSG_CHECK(x.dims().size() == 4, "Conv2d '", name, "': input must be 4-D, got ",
//             DimsToString(x.dims()));
#ifndef PSG_ENGINE_CHECK_H_
#define PSG_ENGINE_CHECK_H_

#include <stdexcept>

#include "absl/strings/str_cat.h"

#define PSG_CHECK(condition, ...)                                   \
  do {                                                              \
    if (!(condition)) {                                             \
      throw std::invalid_argument(absl::StrCat(__VA_ARGS__));       \
    }                                                               \
  } while (false)

#endif  // PSG_ENGINE_CHECK_H_
