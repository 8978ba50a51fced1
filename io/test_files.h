// A file's whole contents, for tests that check what a writer left on disk.
//
//   EXPECT_EQ(ReadTestFile(dir + "/result.json"), expected);
#ifndef PSG_IO_TEST_FILES_H_
#define PSG_IO_TEST_FILES_H_

#include <string>

namespace psg::io {

// The bytes of `path`; empty when it cannot be opened (the test's own
// expectations then fail, naming what they expected).
std::string ReadTestFile(const std::string& path);

}  // namespace psg::io

#endif  // PSG_IO_TEST_FILES_H_
