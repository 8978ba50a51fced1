#include "data/test_files.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace psg::data {

std::string FreshTestDir() {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      (std::string(test->test_suite_name()) + "." + test->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void WriteTestFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  out.close();
  ASSERT_TRUE(out) << "cannot write " << path;
}

}  // namespace psg::data
