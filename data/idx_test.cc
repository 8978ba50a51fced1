#include "data/idx.h"

#include <sys/stat.h>

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::data {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kCount = 5, kRows = 4, kCols = 3;

void AppendBigEndian(uint32_t v, std::vector<uint8_t>& out) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(v >> shift);
}

std::vector<uint8_t> ImagesFile(int count = kCount) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, 3};
  AppendBigEndian(count, bytes);
  AppendBigEndian(kRows, bytes);
  AppendBigEndian(kCols, bytes);
  for (int i = 0; i < count * kRows * kCols; ++i) bytes.push_back(i * 7 + 1);
  return bytes;
}

std::vector<uint8_t> LabelsFile(int count = kCount) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, 1};
  AppendBigEndian(count, bytes);
  for (int i = 0; i < count; ++i) bytes.push_back((i * 3) % 10);
  return bytes;
}

std::vector<uint8_t> Gzip(const std::vector<uint8_t>& bytes,
                          const std::string& scratch_path) {
  gzFile file = gzopen(scratch_path.c_str(), "wb");
  EXPECT_NE(file, nullptr);
  EXPECT_EQ(gzwrite(file, bytes.data(), bytes.size()),
            static_cast<int>(bytes.size()));
  gzclose(file);
  std::FILE* in = std::fopen(scratch_path.c_str(), "rb");
  std::vector<uint8_t> gz;
  for (int c; (c = std::fgetc(in)) != EOF;) gz.push_back(c);
  std::fclose(in);
  return gz;
}

void ExpectContents(const ImageSet& set) {
  EXPECT_EQ(set.count, kCount);
  EXPECT_EQ(set.channels, 1);
  EXPECT_EQ(set.height, kRows);
  EXPECT_EQ(set.width, kCols);
  EXPECT_EQ(set.num_classes, 10);
  const std::vector<uint8_t> images = ImagesFile();
  EXPECT_EQ(set.pixels, std::vector<uint8_t>(images.begin() + 16, images.end()));
  EXPECT_THAT(set.labels, ::testing::ElementsAre(0, 3, 6, 9, 2));
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir(); }
  std::string Write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = dir_ + "/" + name;
    WriteTestFile(path, bytes);
    return path;
  }
  absl::Status ReadError(const std::vector<uint8_t>& images,
                         const std::vector<uint8_t>& labels) {
    absl::StatusOr<ImageSet> set =
        ReadIdx(Write("images", images), Write("labels", labels));
    EXPECT_FALSE(set.ok());
    return set.status();
  }
  std::string dir_;
};

TEST_F(IdxTest, ReadsPlainFiles) {
  absl::StatusOr<ImageSet> set =
      ReadIdx(Write("images", ImagesFile()), Write("labels", LabelsFile()));
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectContents(*set);
}

TEST_F(IdxTest, DetectsGzipByContentNotName) {
  const std::vector<uint8_t> images = Gzip(ImagesFile(), dir_ + "/scratch");
  ASSERT_EQ(images[0], 0x1f);
  absl::StatusOr<ImageSet> set =
      ReadIdx(Write("images", images),
              Write("labels", Gzip(LabelsFile(), dir_ + "/scratch")));
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectContents(*set);
}

TEST_F(IdxTest, ReadMnistTakesPlainOrGzipNames) {
  Write("t10k-images-idx3-ubyte.gz", Gzip(ImagesFile(), dir_ + "/scratch"));
  Write("t10k-labels-idx1-ubyte", LabelsFile());
  absl::StatusOr<ImageSet> set = ReadMnist(dir_, Split::kTest);
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectContents(*set);

  absl::StatusOr<ImageSet> train = ReadMnist(dir_, Split::kTrain);
  ASSERT_FALSE(train.ok());
  EXPECT_EQ(train.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(train.status().message(),
              AllOf(HasSubstr(dir_ + "/train-images-idx3-ubyte"),
                    HasSubstr(dir_ + "/train-images-idx3-ubyte.gz")));
}

TEST_F(IdxTest, MissingFileIsNamed) {
  absl::StatusOr<ImageSet> set =
      ReadIdx(dir_ + "/no-such-images", Write("labels", LabelsFile()));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(set.status().message(), HasSubstr(dir_ + "/no-such-images"));
}

TEST_F(IdxTest, RejectsBadMagic) {
  std::vector<uint8_t> images = ImagesFile();
  images[0] = 0x12;
  EXPECT_THAT(ReadError(images, LabelsFile()).message(),
              AllOf(HasSubstr(dir_ + "/images"),
                    HasSubstr("magic bytes 0x12 0x00")));
}

TEST_F(IdxTest, RejectsNonByteType) {
  std::vector<uint8_t> labels = LabelsFile();
  labels[2] = 0x0d;  // float
  EXPECT_THAT(ReadError(ImagesFile(), labels).message(),
              AllOf(HasSubstr(dir_ + "/labels"), HasSubstr("element type 0x0d")));
}

TEST_F(IdxTest, RejectsWrongDimensionCount) {
  // A label file where the image file should be.
  EXPECT_THAT(ReadError(LabelsFile(), LabelsFile()).message(),
              AllOf(HasSubstr(dir_ + "/images"),
                    HasSubstr("header has 1 dimensions, expected 3")));
}

TEST_F(IdxTest, RejectsTruncatedPlainFile) {
  std::vector<uint8_t> images = ImagesFile();
  images.pop_back();
  EXPECT_THAT(ReadError(images, LabelsFile()).message(),
              AllOf(HasSubstr(dir_ + "/images"), HasSubstr("truncated"),
                    HasSubstr("needs 60 bytes from byte offset 16, only 59")));
}

TEST_F(IdxTest, RejectsTruncatedGzipFile) {
  std::vector<uint8_t> images = Gzip(ImagesFile(), dir_ + "/scratch");
  images.resize(images.size() - 12);  // cuts into the deflate stream
  const absl::Status status = ReadError(images, LabelsFile());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr(dir_ + "/images (gzip)"));
}

TEST_F(IdxTest, RejectsTrailingBytes) {
  std::vector<uint8_t> labels = LabelsFile();
  labels.push_back(0);
  EXPECT_THAT(ReadError(ImagesFile(), labels).message(),
              AllOf(HasSubstr(dir_ + "/labels"),
                    HasSubstr("unexpected bytes after the 5 data bytes"),
                    HasSubstr("byte offset 13")));
}

TEST_F(IdxTest, RejectsCountMismatch) {
  EXPECT_THAT(ReadError(ImagesFile(), LabelsFile(kCount - 1)).message(),
              AllOf(HasSubstr("has 5 images"), HasSubstr("has 4 labels"),
                    HasSubstr(dir_ + "/labels")));
}

TEST_F(IdxTest, RejectsLabelOutOfRange) {
  std::vector<uint8_t> labels = LabelsFile();
  labels[8 + 2] = 10;
  EXPECT_THAT(ReadError(ImagesFile(), labels).message(),
              AllOf(HasSubstr(dir_ + "/labels"),
                    HasSubstr("label 10 of item 2 (byte offset 10)"),
                    HasSubstr("out of range [0, 10)")));
}

// A tiny gzip file whose header announces 2^20 images is rejected before
// the announced size is allocated (deflate cannot expand that far).
TEST_F(IdxTest, RejectsAnnouncedSizesTheFileCannotHold) {
  std::vector<uint8_t> images = {0, 0, 8, 3, 0, 0x10, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
  EXPECT_THAT(ReadError(Gzip(images, dir_ + "/scratch"), LabelsFile()).message(),
              AllOf(HasSubstr(dir_ + "/images (gzip): truncated: data needs"),
                    HasSubstr("the compressed file cannot hold more than")));
}

TEST_F(IdxTest, InMemoryFilesParseAsFilesDo) {
  const std::vector<uint8_t> images = ImagesFile(), labels = Gzip(LabelsFile(), dir_ + "/scratch");
  absl::StatusOr<ImageSet> set = ParseIdx(std::string(images.begin(), images.end()), "images",
                                          std::string(labels.begin(), labels.end()), "labels");
  ASSERT_TRUE(set.ok()) << set.status();
  ExpectContents(*set);
}

// Issue 18, case 11: a FIFO in a file's place is reported, not read (which
// would block).
TEST_F(IdxTest, AFifoIsNamedNotRead) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  absl::StatusOr<ImageSet> set = ReadIdx(fifo, Write("labels", LabelsFile()));
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(set.status().message(), "IDX file '" + fifo + "': is a FIFO, not a regular file");
}

}  // namespace
}  // namespace psg::data
