#include "io/npy.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_files.h"

namespace psg::io {
namespace {

// The layout of NumPy's format spec (numpy/lib/format.py, version 1.0).
TEST(NpyTest, WritesTheVersion1LayoutWithDataAlignedTo64Bytes) {
  const std::string path = ::testing::TempDir() + "/a.npy";
  const std::vector<float> values = {1.5f, -2.0f, 0.25f, 3.0f, 4.0f, 5.0f};
  ASSERT_TRUE(WriteNpy(path, {2, 3}, values).ok());
  const std::string bytes = ReadTestFile(path);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header = static_cast<uint8_t>(bytes[8]) + 256 * static_cast<uint8_t>(bytes[9]);
  const size_t data = 10 + header;
  EXPECT_EQ(data % 64, 0u);
  ASSERT_EQ(bytes.size(), data + values.size() * 4);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes.substr(10 + dict.size(), header - dict.size() - 1), std::string(header - dict.size() - 1, ' '));
  EXPECT_EQ(bytes[data - 1], '\n');
  std::vector<float> back(values.size());
  std::memcpy(back.data(), bytes.data() + data, back.size() * 4);
  EXPECT_EQ(back, values);
}

TEST(NpyTest, OneDimensionalShapesHaveATrailingComma) {
  const std::string path = ::testing::TempDir() + "/b.npy";
  ASSERT_TRUE(WriteNpy(path, {3}, std::vector<int32_t>{7, -1, 2}).ok());
  EXPECT_THAT(ReadTestFile(path), ::testing::HasSubstr("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"));
}

TEST(NpyTest, RejectsAShapeThatDoesNotMatchTheValues) {
  const absl::Status s = WriteNpy(::testing::TempDir() + "/c.npy", {2, 2}, std::vector<float>{1, 2, 3});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("shape (2, 2) holds 4 values, got 3"));
}

TEST(NpyTest, AFailedWriteNamesTheFileAndLeavesNothing) {
  const absl::Status s = WriteNpy("/nonexistent/dir/d.npy", {1}, std::vector<float>{1});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("/nonexistent/dir/d.npy"));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("No such file or directory"));
}

}  // namespace
}  // namespace psg::io
