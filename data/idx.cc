#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
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

constexpr uint8_t kUnsignedByteType = 0x08;
// Larger than any real IDX file; stops a corrupt header from asking for an
// absurd allocation.
constexpr int64_t kMaxPayloadBytes = int64_t{1} << 34;
// Deflate expands at most about 1032:1, so a gzip file of n bytes holds at
// most this many bytes per byte (plus a little): a header that announces
// more is a truncated file, found before the allocation.
constexpr int64_t kMaxInflateRatio = 1040;

bool IsGzip(absl::string_view file) {
  return file.size() >= 2 && static_cast<uint8_t>(file[0]) == 0x1f && static_cast<uint8_t>(file[1]) == 0x8b;
}

// The bytes of an IDX file front to back: the file itself, or what its gzip
// members inflate to (trailing bytes after the last member are ignored, as
// zlib's gzread does).
class IdxStream {
 public:
  IdxStream(absl::string_view file, std::string where) : file_(file), where_(std::move(where)) {
    if (!IsGzip(file)) return;
    gzip_ = true;
    zs_ = std::make_unique<z_stream>();
    zs_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.data()));
    zs_->avail_in = static_cast<uInt>(std::min<size_t>(file.size(), UINT32_MAX));
    init_ = inflateInit2(zs_.get(), 16 + MAX_WBITS);  // gzip wrapper
  }
  ~IdxStream() {
    if (gzip_ && init_ == Z_OK) inflateEnd(zs_.get());
  }

  const std::string& where() const { return where_; }
  // At most this many bytes can follow.
  int64_t MaxBytes() const {
    return gzip_ ? static_cast<int64_t>(file_.size()) * kMaxInflateRatio + 1024
                 : static_cast<int64_t>(file_.size()) - plain_pos_;
  }

  // Reads exactly `size` bytes; `what` and `offset` describe them for errors.
  absl::Status ReadExactly(void* dst, int64_t size, int64_t offset, const char* what) {
    int64_t done = 0;
    if (absl::Status s = Read(static_cast<uint8_t*>(dst), size, &done, offset, what); !s.ok()) return s;
    if (done != size) {
      return absl::DataLossError(absl::StrFormat("%s: truncated: %s needs %d bytes from byte offset %d, only %d there",
                                                 where_, what, size, offset, done));
    }
    return absl::OkStatus();
  }

  // Whether a byte follows (errors of a corrupt stream included).
  absl::StatusOr<bool> MoreBytes(int64_t offset) {
    uint8_t extra;
    int64_t done = 0;
    if (absl::Status s = Read(&extra, 1, &done, offset, "end of file"); !s.ok()) return s;
    return done > 0;
  }

 private:
  absl::Status Read(uint8_t* dst, int64_t size, int64_t* done, int64_t offset, const char* what) {
    if (!gzip_) {
      *done = std::min<int64_t>(size, static_cast<int64_t>(file_.size()) - plain_pos_);
      if (*done > 0) std::memcpy(dst, file_.data() + plain_pos_, *done);
      plain_pos_ += *done;
      return absl::OkStatus();
    }
    if (init_ != Z_OK) return absl::ResourceExhaustedError(absl::StrCat(where_, ": cannot start zlib"));
    *done = 0;
    while (*done < size && !finished_) {
      zs_->next_out = dst + *done;
      zs_->avail_out = static_cast<uInt>(std::min<int64_t>(size - *done, 1 << 30));
      const uInt before = zs_->avail_out;
      const int r = inflate(zs_.get(), Z_NO_FLUSH);
      *done += before - zs_->avail_out;
      if (r == Z_STREAM_END) {
        // Another gzip member may follow; anything else is ignored.
        if (IsGzip(absl::string_view(reinterpret_cast<const char*>(zs_->next_in), zs_->avail_in))) {
          inflateReset(zs_.get());
        } else {
          finished_ = true;
        }
        continue;
      }
      if (r == Z_BUF_ERROR && zs_->avail_in == 0) {
        return absl::DataLossError(absl::StrFormat("%s: %s at byte offset %d: the compressed data ends early",
                                                   where_, what, offset + *done));
      }
      if (r != Z_OK && r != Z_BUF_ERROR) {
        return absl::DataLossError(absl::StrFormat("%s: %s at byte offset %d: %s", where_, what, offset + *done,
                                                   zs_->msg != nullptr ? zs_->msg : "corrupt compressed data"));
      }
    }
    return absl::OkStatus();
  }

  absl::string_view file_;
  std::string where_;
  int64_t plain_pos_ = 0;
  bool gzip_ = false, finished_ = false;
  std::unique_ptr<z_stream> zs_;
  int init_ = Z_OK;
};

// The contents of an unsigned-byte IDX file.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
  int64_t header_bytes = 0;  // byte offset of data[0] in the (decompressed) file
};

absl::StatusOr<IdxArray> ParseIdxArray(absl::string_view file, const std::string& name, int expected_dims,
                                       const char* shape) {
  IdxStream stream(file, absl::StrCat("IDX file ", name, IsGzip(file) ? " (gzip)" : ""));
  const std::string& where = stream.where();
  uint8_t magic[4];
  if (absl::Status s = stream.ReadExactly(magic, 4, 0, "header"); !s.ok()) return s;
  if (magic[0] != 0 || magic[1] != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: not an IDX file: magic bytes 0x%02x 0x%02x (expected 0x00 0x00)", where, magic[0], magic[1]));
  }
  if (magic[2] != kUnsignedByteType) {
    return absl::DataLossError(absl::StrFormat(
        "%s: element type 0x%02x is not supported (expected 0x08, unsigned byte)", where, magic[2]));
  }
  if (magic[3] != expected_dims) {
    return absl::DataLossError(absl::StrFormat("%s: header has %d dimensions, expected %d (%s)", where,
                                               magic[3], expected_dims, shape));
  }

  IdxArray array;
  std::vector<uint8_t> dims(4 * expected_dims);
  if (absl::Status s = stream.ReadExactly(dims.data(), dims.size(), 4, "dimension sizes"); !s.ok()) return s;
  int64_t payload = 1;
  for (int d = 0; d < expected_dims; ++d) {
    const uint8_t* b = &dims[4 * d];
    const int64_t size = (int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    // Only the item count (dimension 0) may be zero.
    if (size == 0 && d > 0) {
      return absl::DataLossError(absl::StrFormat("%s: dimension %d has size 0", where, d));
    }
    if (size > 0 && payload > kMaxPayloadBytes / size) {
      return absl::DataLossError(absl::StrFormat("%s: implausible dimensions (%s)", where, shape));
    }
    payload *= size;
    array.dims.push_back(size);
  }
  array.header_bytes = 4 + 4 * expected_dims;
  if (payload > stream.MaxBytes()) {
    return absl::DataLossError(absl::StrCat(
        where, ": truncated: data needs ", payload, " bytes from byte offset ", array.header_bytes,
        IsGzip(file) ? ", the compressed file cannot hold more than " : ", only ", stream.MaxBytes(),
        IsGzip(file) ? "" : " there"));
  }
  array.data.resize(payload);
  if (absl::Status s = stream.ReadExactly(array.data.data(), payload, array.header_bytes, "data"); !s.ok()) {
    return s;
  }
  absl::StatusOr<bool> more = stream.MoreBytes(array.header_bytes + payload);
  if (!more.ok()) return more.status();
  if (*more) {
    return absl::DataLossError(absl::StrFormat(
        "%s: unexpected bytes after the %d data bytes the header announces (at byte offset %d)", where,
        payload, array.header_bytes + payload));
  }
  return array;
}

// `name` if it exists, else `name`.gz, else a NotFound error naming both.
absl::StatusOr<std::string> FindPlainOrGzip(const std::string& dir, const std::string& name) {
  const std::string plain = absl::StrCat(dir, "/", name);
  const std::string gz = plain + ".gz";
  for (const std::string* path : {&plain, &gz}) {
    absl::StatusOr<io::RegularFile> file = io::RegularFile::Open(*path, "IDX file");
    if (file.ok() || !absl::IsNotFound(file.status())) return *path;
  }
  return absl::NotFoundError(absl::StrCat("IDX file not found: neither ", plain, " nor ", gz));
}

}  // namespace

absl::StatusOr<ImageSet> ParseIdx(absl::string_view images_file, const std::string& images_name,
                                  absl::string_view labels_file, const std::string& labels_name,
                                  int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    return absl::InvalidArgumentError(absl::StrFormat("ReadIdx: num_classes %d is not in [1, 256]", num_classes));
  }
  absl::StatusOr<IdxArray> images = ParseIdxArray(images_file, images_name, 3, "images x rows x columns");
  if (!images.ok()) return images.status();
  absl::StatusOr<IdxArray> labels = ParseIdxArray(labels_file, labels_name, 1, "labels");
  if (!labels.ok()) return labels.status();

  if (images->dims[0] != labels->dims[0]) {
    return absl::DataLossError(absl::StrFormat("IDX files disagree: %s has %d images but %s has %d labels",
                                               images_name, images->dims[0], labels_name, labels->dims[0]));
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
          "IDX file %s: label %d of item %d (byte offset %d) out of range [0, %d)", labels_name, label, i,
          labels->header_bytes + i, num_classes));
    }
    set.labels[i] = label;
  }
  set.pixels = std::move(images->data);
  return set;
}

absl::StatusOr<ImageSet> ReadIdx(const std::string& images_path, const std::string& labels_path,
                                 int num_classes) {
  absl::StatusOr<std::string> images = io::ReadRegularFile(images_path, "IDX file");
  if (!images.ok()) return images.status();
  absl::StatusOr<std::string> labels = io::ReadRegularFile(labels_path, "IDX file");
  if (!labels.ok()) return labels.status();
  return ParseIdx(*images, images_path, *labels, labels_path, num_classes);
}

absl::StatusOr<ImageSet> ReadMnist(const std::string& dir, Split split) {
  const char* prefix = split == Split::kTrain ? "train" : "t10k";
  absl::StatusOr<std::string> images = FindPlainOrGzip(dir, absl::StrCat(prefix, "-images-idx3-ubyte"));
  if (!images.ok()) return images.status();
  absl::StatusOr<std::string> labels = FindPlainOrGzip(dir, absl::StrCat(prefix, "-labels-idx1-ubyte"));
  if (!labels.ok()) return labels.status();
  return ReadIdx(*images, *labels);
}

}  // namespace psg::data
