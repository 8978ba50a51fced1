#ifndef PSG_DATA_TEST_FILES_H_
#define PSG_DATA_TEST_FILES_H_

// File helpers for tests that write their own input files.
//
//   std::string dir = FreshTestDir();   // empty, unique to the current test
//   WriteTestFile(dir + "/x.bin", bytes);

#include <cstdint>
#include <string>
#include <vector>

namespace psg::data {

// An empty directory under the test's temporary directory, named after the
// running test.
std::string FreshTestDir();

// Writes `bytes` to `path` (a gtest failure if that fails).
void WriteTestFile(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace psg::data

#endif  // PSG_DATA_TEST_FILES_H_
