// A gMock matcher for the toolkit's argument checks (PSG_CHECK).
//
//   EXPECT_THAT([] { PointWarp(0, 1e-3, 0); }, ThrowsInvalidArgument("lambda must be > 0"));
#ifndef PSG_ENGINE_TESTING_THROWS_H_
#define PSG_ENGINE_TESTING_THROWS_H_

#include <stdexcept>
#include <string>

#include "gmock/gmock.h"

namespace psg {

// Matches a callable that throws std::invalid_argument with `substring` in its message.
inline auto ThrowsInvalidArgument(const std::string& substring) {
  return ::testing::Throws<std::invalid_argument>(
      ::testing::Property(&std::invalid_argument::what, ::testing::HasSubstr(substring)));
}

}  // namespace psg

#endif  // PSG_ENGINE_TESTING_THROWS_H_
