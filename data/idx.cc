#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psg::data {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
// Larger than any real IDX file; stops a corrupt header from asking for an
// absurd allocation.
constexpr int64_t kMaxPayloadBytes = int64_t{1} << 34;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// The contents of an unsigned-byte IDX file.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
  int64_t header_bytes = 0;  // byte offset of data[0] in the (decompressed) file
};

absl::StatusOr<bool> IsGzip(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("IDX file ", path, ": cannot open"));
  }
  unsigned char magic[2] = {0, 0};
  const size_t n = std::fread(magic, 1, 2, file);
  std::fclose(file);
  return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

// Reads exactly `size` bytes; `what` and `offset` describe them for errors.
absl::Status ReadExactly(gzFile file, const std::string& where, void* dst,
                         int64_t size, int64_t offset, const char* what) {
  uint8_t* out = static_cast<uint8_t*>(dst);
  int64_t done = 0;
  while (done < size) {
    // gzread takes an unsigned int length.
    const unsigned chunk =
        static_cast<unsigned>(std::min<int64_t>(size - done, 1 << 30));
    const int n = gzread(file, out + done, chunk);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      return absl::DataLossError(
          absl::StrFormat("%s: %s at byte offset %d: %s", where, what,
                          offset + done, message));
    }
    if (n == 0) break;
    done += n;
  }
  if (done != size) {
    return absl::DataLossError(absl::StrFormat(
        "%s: truncated: %s needs %d bytes from byte offset %d, only %d there",
        where, what, size, offset, done));
  }
  return absl::OkStatus();
}

absl::StatusOr<IdxArray> ReadIdxArray(const std::string& path,
                                      int expected_dims, const char* shape) {
  absl::StatusOr<bool> gzip = IsGzip(path);
  if (!gzip.ok()) return gzip.status();
  const std::string where =
      absl::StrCat("IDX file ", path, *gzip ? " (gzip)" : "");

  GzFile file(gzopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat(where, ": cannot open"));
  }
  gzbuffer(file.get(), 1 << 18);

  uint8_t magic[4];
  if (absl::Status s = ReadExactly(file.get(), where, magic, 4, 0, "header");
      !s.ok()) {
    return s;
  }
  if (magic[0] != 0 || magic[1] != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: not an IDX file: magic bytes 0x%02x 0x%02x (expected 0x00 0x00)",
        where, magic[0], magic[1]));
  }
  if (magic[2] != kUnsignedByteType) {
    return absl::DataLossError(absl::StrFormat(
        "%s: element type 0x%02x is not supported (expected 0x08, unsigned "
        "byte)",
        where, magic[2]));
  }
  if (magic[3] != expected_dims) {
    return absl::DataLossError(
        absl::StrFormat("%s: header has %d dimensions, expected %d (%s)",
                        where, magic[3], expected_dims, shape));
  }

  IdxArray array;
  std::vector<uint8_t> dims(4 * expected_dims);
  if (absl::Status s = ReadExactly(file.get(), where, dims.data(), dims.size(),
                                   4, "dimension sizes");
      !s.ok()) {
    return s;
  }
  int64_t payload = 1;
  for (int d = 0; d < expected_dims; ++d) {
    const uint8_t* b = &dims[4 * d];
    const int64_t size = (int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    // Only the item count (dimension 0) may be zero.
    if (size == 0 && d > 0) {
      return absl::DataLossError(
          absl::StrFormat("%s: dimension %d has size 0", where, d));
    }
    if (size > 0 && payload > kMaxPayloadBytes / size) {
      return absl::DataLossError(
          absl::StrFormat("%s: implausible dimensions (%s)", where, shape));
    }
    payload *= size;
    array.dims.push_back(size);
  }
  array.header_bytes = 4 + 4 * expected_dims;
  array.data.resize(payload);
  if (absl::Status s = ReadExactly(file.get(), where, array.data.data(),
                                   payload, array.header_bytes, "data");
      !s.ok()) {
    return s;
  }
  uint8_t extra;
  if (gzread(file.get(), &extra, 1) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: unexpected bytes after the %d data bytes the header announces "
        "(at byte offset %d)",
        where, payload, array.header_bytes + payload));
  }
  return array;
}

// `name` if it exists, else `name`.gz, else a NotFound error naming both.
absl::StatusOr<std::string> FindPlainOrGzip(const std::string& dir,
                                            const std::string& name) {
  const std::string plain = absl::StrCat(dir, "/", name);
  const std::string gz = plain + ".gz";
  for (const std::string* path : {&plain, &gz}) {
    if (std::FILE* f = std::fopen(path->c_str(), "rb")) {
      std::fclose(f);
      return *path;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("IDX file not found: neither ", plain, " nor ", gz));
}

}  // namespace

absl::StatusOr<ImageSet> ReadIdx(const std::string& images_path,
                                 const std::string& labels_path,
                                 int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ReadIdx: num_classes %d is not in [1, 256]", num_classes));
  }
  absl::StatusOr<IdxArray> images =
      ReadIdxArray(images_path, 3, "images x rows x columns");
  if (!images.ok()) return images.status();
  absl::StatusOr<IdxArray> labels = ReadIdxArray(labels_path, 1, "labels");
  if (!labels.ok()) return labels.status();

  if (images->dims[0] != labels->dims[0]) {
    return absl::DataLossError(absl::StrFormat(
        "IDX files disagree: %s has %d images but %s has %d labels",
        images_path, images->dims[0], labels_path, labels->dims[0]));
  }
  ImageSet set;
  set.count = images->dims[0];
  set.channels = 1;
  set.height = static_cast<int>(images->dims[1]);
  set.width = static_cast<int>(images->dims[2]);
  set.num_classes = num_classes;
  set.labels.resize(set.count);
  for (int64_t i = 0; i < set.count; ++i) {
    const int label = labels->data[i];
    if (label >= num_classes) {
      return absl::DataLossError(absl::StrFormat(
          "IDX file %s: label %d of item %d (byte offset %d) out of range "
          "[0, %d)",
          labels_path, label, i, labels->header_bytes + i, num_classes));
    }
    set.labels[i] = label;
  }
  set.pixels = std::move(images->data);
  return set;
}

absl::StatusOr<ImageSet> ReadMnist(const std::string& dir, Split split) {
  const char* prefix = split == Split::kTrain ? "train" : "t10k";
  absl::StatusOr<std::string> images =
      FindPlainOrGzip(dir, absl::StrCat(prefix, "-images-idx3-ubyte"));
  if (!images.ok()) return images.status();
  absl::StatusOr<std::string> labels =
      FindPlainOrGzip(dir, absl::StrCat(prefix, "-labels-idx1-ubyte"));
  if (!labels.ok()) return labels.status();
  return ReadIdx(*images, *labels);
}

}  // namespace psg::data
