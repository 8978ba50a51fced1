#include "data/cifar.h"

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "data/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::data {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kImageBytes = 3072;

// Distinct, position-dependent contents, so swapped planes, records or files
// are caught.
uint8_t Pixel(int file, int record, int offset) {
  return static_cast<uint8_t>(file * 7 + record * 13 + offset * 5 +
                              (offset >> 8));
}
int Label(int file, int record, int num_classes) {
  return (file * 3 + record * 7) % num_classes;
}

// A file of `records` records with `label_bytes` label bytes each: the first
// uses Label(..., coarse_classes), the second Label(..., 100).
std::vector<uint8_t> CifarFile(int file, int records, int label_bytes) {
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<size_t>(records) * (label_bytes + kImageBytes));
  for (int r = 0; r < records; ++r) {
    if (label_bytes == 1) {
      bytes.push_back(Label(file, r, 10));
    } else {
      bytes.push_back(Label(file, r, 20));
      bytes.push_back(Label(file, r, 100));
    }
    for (int i = 0; i < kImageBytes; ++i) bytes.push_back(Pixel(file, r, i));
  }
  return bytes;
}

void ExpectImage(const ImageSet& set, int64_t index, int file, int record) {
  const uint8_t* image = set.image(index);
  // Plane c, row y, column x sits at c*1024 + y*32 + x in the record.
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 32; ++y) {
      for (int x = 0; x < 32; ++x) {
        const int offset = c * 1024 + y * 32 + x;
        ASSERT_EQ(image[offset], Pixel(file, record, offset))
            << "image " << index << " channel " << c << " (" << y << ", " << x
            << ")";
      }
    }
  }
}

TEST(Cifar10Test, ReadsTestSplit) {
  const std::string dir = FreshTestDir();
  WriteTestFile(dir + "/test_batch.bin", CifarFile(0, 10000, 1));

  absl::StatusOr<ImageSet> set = ReadCifar10(dir, Split::kTest);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->count, 10000);
  EXPECT_EQ(set->channels, 3);
  EXPECT_EQ(set->height, 32);
  EXPECT_EQ(set->width, 32);
  EXPECT_EQ(set->num_classes, 10);
  ASSERT_EQ(set->pixels.size(), 10000u * kImageBytes);
  ASSERT_EQ(set->labels.size(), 10000u);
  for (int r = 0; r < 10000; ++r) {
    ASSERT_EQ(set->labels[r], Label(0, r, 10)) << "record " << r;
  }
  ExpectImage(*set, 0, 0, 0);
  ExpectImage(*set, 4321, 0, 4321);
  ExpectImage(*set, 9999, 0, 9999);
}

TEST(Cifar10Test, ReadsTrainSplitInFileOrder) {
  const std::string dir = FreshTestDir();
  for (int f = 1; f <= 5; ++f) {
    WriteTestFile(absl::StrCat(dir, "/data_batch_", f, ".bin"),
                  CifarFile(f, 10000, 1));
  }
  absl::StatusOr<ImageSet> set = ReadCifar10(dir, Split::kTrain);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->count, 50000);
  for (int f = 1; f <= 5; ++f) {
    for (int r = 0; r < 10000; ++r) {
      ASSERT_EQ(set->labels[(f - 1) * 10000 + r], Label(f, r, 10));
    }
    ExpectImage(*set, (f - 1) * 10000, f, 0);
    ExpectImage(*set, (f - 1) * 10000 + 9999, f, 9999);
  }
}

// Issue 18, case 11: a FIFO in a file's place is reported, not read (which
// would block).
TEST(Cifar10Test, AFifoIsNamedNotRead) {
  const std::string dir = FreshTestDir();
  ASSERT_EQ(mkfifo((dir + "/test_batch.bin").c_str(), 0644), 0);
  absl::StatusOr<ImageSet> set = ReadCifar10(dir, Split::kTest);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(set.status().message(), "CIFAR file '" + dir + "/test_batch.bin': is a FIFO, not a regular file");
}

TEST(Cifar10Test, InMemoryRecordsParseAsFilesDo) {
  const std::vector<uint8_t> file = CifarFile(1, 3, 1);
  absl::StatusOr<ImageSet> set =
      ParseCifar(std::string(file.begin(), file.end()), CifarFormat::kCifar10, 3, "mem");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->count, 3);
  EXPECT_EQ(ParseCifar(std::string(file.begin(), file.end()), CifarFormat::kCifar10, 4, "mem").status().message(),
            "CIFAR file mem: expected 4 records (12292 bytes), found 3 records (9219 bytes)");
}

TEST(Cifar10Test, MissingFileIsNamed) {
  const std::string dir = FreshTestDir();
  for (int f : {1, 2, 4, 5}) {
    WriteTestFile(absl::StrCat(dir, "/data_batch_", f, ".bin"),
                  CifarFile(f, 10000, 1));
  }
  absl::StatusOr<ImageSet> set = ReadCifar10(dir, Split::kTrain);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(set.status().message(),
              HasSubstr(dir + "/data_batch_3.bin': cannot open"));
}

TEST(Cifar10Test, TruncatedFileIsRejected) {
  const std::string dir = FreshTestDir();
  std::vector<uint8_t> bytes = CifarFile(0, 10000, 1);
  bytes.erase(bytes.end() - 100, bytes.end());
  WriteTestFile(dir + "/test_batch.bin", bytes);

  absl::StatusOr<ImageSet> set = ReadCifar10(dir, Split::kTest);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("test_batch.bin"), HasSubstr("size 30729900"),
                    HasSubstr("3073-byte records"), HasSubstr("truncated"),
                    HasSubstr("byte offset 30726927 has 2973 bytes"),
                    HasSubstr("expected 30730000 bytes")));
}

TEST(Cifar10Test, WrongRecordCountIsRejected) {
  const std::string dir = FreshTestDir();
  WriteTestFile(dir + "/test_batch.bin", CifarFile(0, 9999, 1));

  absl::StatusOr<ImageSet> set = ReadCifar10(dir, Split::kTest);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("test_batch.bin"),
                    HasSubstr("expected 10000 records (30730000 bytes)"),
                    HasSubstr("found 9999 records (30726927 bytes)")));
}

TEST(Cifar10Test, LabelOutOfRangeIsRejected) {
  const std::string dir = FreshTestDir();
  std::vector<uint8_t> bytes = CifarFile(0, 10000, 1);
  bytes[123 * 3073] = 10;
  WriteTestFile(dir + "/test_batch.bin", bytes);

  absl::StatusOr<ImageSet> set = ReadCifar10(dir, Split::kTest);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("test_batch.bin"),
                    HasSubstr("record 123 (byte offset 377979)"),
                    HasSubstr("label 10 out of range [0, 10)")));
}

TEST(Cifar100Test, ReadsFineAndCoarseLabels) {
  const std::string dir = FreshTestDir();
  WriteTestFile(dir + "/test.bin", CifarFile(0, 10000, 2));

  absl::StatusOr<ImageSet> fine = ReadCifar100(dir, Split::kTest);
  ASSERT_TRUE(fine.ok()) << fine.status();
  absl::StatusOr<ImageSet> coarse =
      ReadCifar100(dir, Split::kTest, Cifar100Labels::kCoarse);
  ASSERT_TRUE(coarse.ok()) << coarse.status();

  EXPECT_EQ(fine->count, 10000);
  EXPECT_EQ(fine->num_classes, 100);
  EXPECT_EQ(coarse->num_classes, 20);
  for (int r = 0; r < 10000; ++r) {
    ASSERT_EQ(fine->labels[r], Label(0, r, 100)) << "record " << r;
    ASSERT_EQ(coarse->labels[r], Label(0, r, 20)) << "record " << r;
  }
  ExpectImage(*fine, 0, 0, 0);
  ExpectImage(*fine, 9999, 0, 9999);
  EXPECT_EQ(fine->pixels, coarse->pixels);
}

TEST(Cifar100Test, FineLabelOutOfRangeIsRejected) {
  const std::string dir = FreshTestDir();
  std::vector<uint8_t> bytes = CifarFile(0, 10000, 2);
  bytes[7 * 3074 + 1] = 100;
  WriteTestFile(dir + "/test.bin", bytes);

  absl::StatusOr<ImageSet> set = ReadCifar100(dir, Split::kTest);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("test.bin"), HasSubstr("record 7"),
                    HasSubstr("fine label 100 out of range [0, 100)")));
  // The coarse labels of the same file are fine.
  EXPECT_TRUE(ReadCifar100(dir, Split::kTest, Cifar100Labels::kCoarse).ok());
}

TEST(Cifar100Test, TrainExpects50000Records) {
  const std::string dir = FreshTestDir();
  WriteTestFile(dir + "/train.bin", CifarFile(0, 10000, 2));

  absl::StatusOr<ImageSet> set = ReadCifar100(dir, Split::kTrain);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(),
              AllOf(HasSubstr("train.bin"),
                    HasSubstr("expected 50000 records (153700000 bytes)"),
                    HasSubstr("found 10000 records")));
}

TEST(Cifar100Test, MissingFileIsNamed) {
  const std::string dir = FreshTestDir();
  absl::StatusOr<ImageSet> set = ReadCifar100(dir, Split::kTest);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(set.status().message(), HasSubstr(dir + "/test.bin"));
}

}  // namespace
}  // namespace psg::data
