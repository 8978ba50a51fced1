#include "data/cifar.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/files.h"

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

// Checks that `file` (the contents of `name`) holds exactly `records`
// records, so a wrong file is rejected before anything is parsed.
absl::Status CheckSize(int64_t size, const std::string& name, const RecordLayout& layout,
                       int64_t records) {
  const int64_t record = layout.record_bytes();
  const int64_t expected_size = records * record;
  if (size % record != 0) {
    return absl::DataLossError(absl::StrFormat(
        "CIFAR file %s: size %d bytes is not a whole number of %d-byte "
        "records (truncated or not a CIFAR binary file? the last record at "
        "byte offset %d has %d bytes); expected %d bytes",
        name, size, record, size - size % record, size % record, expected_size));
  }
  if (size != expected_size) {
    return absl::DataLossError(absl::StrFormat(
        "CIFAR file %s: expected %d records (%d bytes), found %d records (%d bytes)", name, records,
        expected_size, size / record, size));
  }
  return absl::OkStatus();
}

// Copies the `records` records of `file` into `set` from image `first` on.
absl::Status ParseRecords(absl::string_view file, const std::string& name, const RecordLayout& layout,
                          int64_t records, ImageSet& set, int64_t first) {
  if (absl::Status s = CheckSize(static_cast<int64_t>(file.size()), name, layout, records); !s.ok()) return s;
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* record = reinterpret_cast<const uint8_t*>(file.data()) + r * layout.record_bytes();
    const int label = record[layout.label_offset];
    if (label >= layout.num_classes) {
      return absl::DataLossError(absl::StrFormat(
          "CIFAR file %s: record %d (byte offset %d): %s label %d out of range [0, %d)", name, r,
          r * layout.record_bytes() + layout.label_offset, layout.label_name, label, layout.num_classes));
    }
    set.labels[first + r] = label;
    std::memcpy(set.pixels.data() + (first + r) * kImageBytes, record + layout.label_bytes, kImageBytes);
  }
  return absl::OkStatus();
}

ImageSet EmptySet(const RecordLayout& layout, int64_t count) {
  ImageSet set;
  set.count = count;
  set.channels = kChannels;
  set.height = kSide;
  set.width = kSide;
  set.num_classes = layout.num_classes;
  set.pixels.resize(set.count * kImageBytes);
  set.labels.resize(set.count);
  return set;
}

absl::StatusOr<ImageSet> ReadFiles(const std::vector<std::string>& paths, const RecordLayout& layout,
                                   int64_t records_per_file) {
  ImageSet set = EmptySet(layout, records_per_file * static_cast<int64_t>(paths.size()));
  std::string bytes;
  for (size_t i = 0; i < paths.size(); ++i) {
    absl::StatusOr<io::RegularFile> file = io::RegularFile::Open(paths[i], "CIFAR file");
    if (!file.ok()) return file.status();
    // The size first: a wrong file is rejected before it is read.
    if (absl::Status s = CheckSize(static_cast<int64_t>(file->size()), paths[i], layout, records_per_file);
        !s.ok()) {
      return s;
    }
    bytes.resize(file->size());
    if (absl::Status s = file->ReadAt(0, bytes.data(), bytes.size()); !s.ok()) return s;
    if (absl::Status s = ParseRecords(bytes, paths[i], layout, records_per_file, set, i * records_per_file);
        !s.ok()) {
      return s;
    }
  }
  return set;
}

constexpr RecordLayout kCifar10 = {1, 0, 10, "CIFAR-10"};
constexpr RecordLayout kCifar100Coarse = {2, 0, 20, "coarse"};
constexpr RecordLayout kCifar100Fine = {2, 1, 100, "fine"};

}  // namespace

absl::StatusOr<ImageSet> ReadCifar10(const std::string& dir, Split split) {
  std::vector<std::string> paths;
  if (split == Split::kTrain) {
    for (int i = 1; i <= 5; ++i) {
      paths.push_back(absl::StrCat(dir, "/data_batch_", i, ".bin"));
    }
  } else {
    paths.push_back(absl::StrCat(dir, "/test_batch.bin"));
  }
  return ReadFiles(paths, kCifar10, 10000);
}

absl::StatusOr<ImageSet> ReadCifar100(const std::string& dir, Split split,
                                      Cifar100Labels which) {
  const bool train = split == Split::kTrain;
  return ReadFiles({absl::StrCat(dir, train ? "/train.bin" : "/test.bin")},
                   which == Cifar100Labels::kFine ? kCifar100Fine : kCifar100Coarse,
                   train ? 50000 : 10000);
}

absl::StatusOr<ImageSet> ParseCifar(absl::string_view file, CifarFormat format, int64_t records,
                                    const std::string& name) {
  const RecordLayout& layout = format == CifarFormat::kCifar10         ? kCifar10
                               : format == CifarFormat::kCifar100Fine ? kCifar100Fine
                                                                       : kCifar100Coarse;
  // The size first: the set is allocated only for a file that holds it.
  if (absl::Status s = CheckSize(static_cast<int64_t>(file.size()), name, layout, records); !s.ok()) return s;
  ImageSet set = EmptySet(layout, records);
  if (absl::Status s = ParseRecords(file, name, layout, records, set, 0); !s.ok()) return s;
  return set;
}

}  // namespace psg::data
