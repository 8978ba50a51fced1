#include "data/cifar.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psg::data {
namespace {

constexpr int kChannels = 3;
constexpr int kSide = 32;
constexpr int64_t kImageBytes = kChannels * kSide * kSide;

struct RecordLayout {
  int label_bytes;    // label bytes before the pixels of each record
  int label_offset;   // which of them is the label we keep
  int num_classes;
  const char* label_name;  // for error messages
  int64_t record_bytes() const { return label_bytes + kImageBytes; }
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads the whole file into `bytes` after checking its size, so a wrong file
// is rejected before anything is parsed.
absl::Status ReadRecords(const std::string& path, const RecordLayout& layout,
                         int64_t expected_records,
                         std::vector<uint8_t>& bytes) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("CIFAR file ", path, ": cannot open"));
  }
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("CIFAR file ", path, ": cannot stat"));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("CIFAR file ", path, ": not a regular file"));
  }
  const int64_t size = info.st_size;
  const int64_t record = layout.record_bytes();
  const int64_t expected_size = expected_records * record;
  if (size % record != 0) {
    return absl::DataLossError(absl::StrFormat(
        "CIFAR file %s: size %d bytes is not a whole number of %d-byte "
        "records (truncated or not a CIFAR binary file? the last record at "
        "byte offset %d has %d bytes); expected %d bytes",
        path, size, record, size - size % record, size % record,
        expected_size));
  }
  if (size != expected_size) {
    return absl::DataLossError(absl::StrFormat(
        "CIFAR file %s: expected %d records (%d bytes), found %d records "
        "(%d bytes)",
        path, expected_records, expected_size, size / record, size));
  }
  bytes.resize(size);
  const size_t read = std::fread(bytes.data(), 1, size, file.get());
  if (static_cast<int64_t>(read) != size) {
    return absl::DataLossError(absl::StrFormat(
        "CIFAR file %s: read only %d of %d bytes", path, read, size));
  }
  return absl::OkStatus();
}

absl::StatusOr<ImageSet> ReadFiles(const std::vector<std::string>& paths,
                                   const RecordLayout& layout,
                                   int64_t records_per_file) {
  ImageSet set;
  set.count = records_per_file * static_cast<int64_t>(paths.size());
  set.channels = kChannels;
  set.height = kSide;
  set.width = kSide;
  set.num_classes = layout.num_classes;
  set.pixels.resize(set.count * kImageBytes);
  set.labels.resize(set.count);

  std::vector<uint8_t> bytes;
  int64_t image = 0;
  for (const std::string& path : paths) {
    if (absl::Status status =
            ReadRecords(path, layout, records_per_file, bytes);
        !status.ok()) {
      return status;
    }
    for (int64_t r = 0; r < records_per_file; ++r, ++image) {
      const uint8_t* record = bytes.data() + r * layout.record_bytes();
      const int label = record[layout.label_offset];
      if (label >= layout.num_classes) {
        return absl::DataLossError(absl::StrFormat(
            "CIFAR file %s: record %d (byte offset %d): %s label %d out of "
            "range [0, %d)",
            path, r, r * layout.record_bytes() + layout.label_offset,
            layout.label_name, label, layout.num_classes));
      }
      set.labels[image] = label;
      std::memcpy(set.pixels.data() + image * kImageBytes,
                  record + layout.label_bytes, kImageBytes);
    }
  }
  return set;
}

}  // namespace

absl::StatusOr<ImageSet> ReadCifar10(const std::string& dir, Split split) {
  constexpr RecordLayout kLayout = {1, 0, 10, "CIFAR-10"};
  std::vector<std::string> paths;
  if (split == Split::kTrain) {
    for (int i = 1; i <= 5; ++i) {
      paths.push_back(absl::StrCat(dir, "/data_batch_", i, ".bin"));
    }
  } else {
    paths.push_back(absl::StrCat(dir, "/test_batch.bin"));
  }
  return ReadFiles(paths, kLayout, 10000);
}

absl::StatusOr<ImageSet> ReadCifar100(const std::string& dir, Split split,
                                      Cifar100Labels which) {
  constexpr RecordLayout kCoarse = {2, 0, 20, "coarse"};
  constexpr RecordLayout kFine = {2, 1, 100, "fine"};
  const bool train = split == Split::kTrain;
  return ReadFiles({absl::StrCat(dir, train ? "/train.bin" : "/test.bin")},
                   which == Cifar100Labels::kFine ? kFine : kCoarse,
                   train ? 50000 : 10000);
}

}  // namespace psg::data
