// psg-toolkit checkpoint files: format "psg-toolkit-checkpoint", version 1.
//
// A checkpoint is a plain safetensors file, readable with the `safetensors`
// Python package or a few lines of numpy (see docs/checkpoint-format.md for
// the full specification, naming conventions and versioning policy):
//
//   bytes [0, 8)        N: little-endian uint64, length of the JSON header
//   bytes [8, 8+N)      UTF-8 JSON header, padded with spaces to N % 8 == 0:
//                         {"__metadata__": {"format": "psg-toolkit-checkpoint",
//                                           "format_version": "1",
//                                           "crc32": "<8 hex digits>",
//                                           "header_crc32": "<8 hex digits>",
//                                           <user key>: <string>, ...},
//                          "<tensor name>": {"dtype": "F32",
//                                            "shape": [64, 3, 3, 3],
//                                            "data_offsets": [begin, end]},
//                          ...}
//   bytes [8+N, EOF)    data buffer: each tensor's raw little-endian
//                       row-major bytes, contiguous, in header order;
//                       data_offsets are relative to the buffer start.
//
// "crc32" is zlib's CRC-32 of the data buffer; "header_crc32" is the CRC-32 of
// the N header bytes with the 8 digits of header_crc32 itself replaced by
// "00000000". Together they detect silent corruption anywhere in the file.
//
// Usage:
//
//   psg::io::CheckpointWriter writer;
//   absl::Status s = writer.AddF32("layer1.0.conv1.weight", {64, 3, 3, 3},
//                                  weights);  // absl::Span<const float>
//   if (s.ok()) s = writer.AddU64("rng/data_shuffle", {4}, rng_state);
//   if (s.ok()) s = writer.SetMetadata("epoch", "12");
//   if (s.ok()) s = writer.WriteAtomically("/ckpt/run1/epoch12.safetensors");
//
//   absl::StatusOr<psg::io::Checkpoint> ckpt =
//       psg::io::Checkpoint::Read("/ckpt/run1/epoch12.safetensors");
//   if (!ckpt.ok()) return ckpt.status();  // says what is wrong and where
//   absl::StatusOr<absl::Span<const float>> w =
//       ckpt->F32("layer1.0.conv1.weight", {64, 3, 3, 3});  // checks shape
//   absl::StatusOr<std::string> epoch = ckpt->GetMetadata("epoch");
//
// Status codes: a missing file is NotFound; a path that is not a regular file
// (a directory, FIFO or device) is FailedPrecondition, reported without
// blocking; a truncated, corrupt or malformed file is DataLoss (decided from
// its header before the whole file is read, so a huge file that is no
// checkpoint costs nothing); a valid file too large for memory is
// ResourceExhausted; a valid safetensors file that is not a psg-toolkit
// checkpoint, or has an unsupported format_version, is FailedPrecondition; a
// tensor that is absent is NotFound; one with another dtype or shape than
// requested is InvalidArgument. Every message names the file.
//
// Thread safety: a Checkpoint is immutable after Read and may be shared across
// threads. A CheckpointWriter is not synchronized. Two writers must not write
// the same path from one process at the same time (they would share the
// temporary file name `path + ".tmp.<pid>"`).
//
// The format is little-endian; this code only builds on little-endian hosts.

#ifndef PSG_IO_CHECKPOINT_H_
#define PSG_IO_CHECKPOINT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "psg::io checkpoints are little-endian; big-endian hosts would "
              "need byte swapping");

namespace psg::io {

// Format identification, stored in "__metadata__".
inline constexpr char kFormatName[] = "psg-toolkit-checkpoint";
inline constexpr int kFormatVersion = 1;  // the only version this code reads

// Reserved "__metadata__" keys, written by CheckpointWriter itself.
inline constexpr char kMetadataFormat[] = "format";
inline constexpr char kMetadataFormatVersion[] = "format_version";
inline constexpr char kMetadataCrc32[] = "crc32";
inline constexpr char kMetadataHeaderCrc32[] = "header_crc32";

// Element types; the names are safetensors dtype strings.
enum class DType { kF32, kF64, kI32, kI64, kU8, kU64 };

absl::string_view DTypeName(DType dtype);  // "F32", "F64", "I32", ...
size_t DTypeSize(DType dtype);             // bytes per element

// The DType of a C++ element type: DTypeOf<float>::value == DType::kF32.
template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::kF32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::kF64;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::kI32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::kI64;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::kU8;
};
template <>
struct DTypeOf<uint64_t> {
  static constexpr DType value = DType::kU64;
};

// Formats a shape as "[2,3]" ("[]" for a scalar), as used in error messages.
std::string ShapeString(absl::Span<const int64_t> shape);

// Collects tensors and metadata, then writes one checkpoint file.
// Tensor data is copied when added, so callers may reuse their buffers.
class CheckpointWriter {
 public:
  // Adds a tensor with values in row-major order. An empty shape is a scalar
  // (one element); a shape with a 0 dimension is a zero-size tensor.
  // InvalidArgument if the name is empty, "__metadata__", not valid UTF-8 or
  // already added, a dimension is negative, or values.size() differs from
  // the product of the shape.
  absl::Status AddF32(absl::string_view name, absl::Span<const int64_t> shape,
                      absl::Span<const float> values) {
    return Add<float>(name, shape, values);
  }
  absl::Status AddF64(absl::string_view name, absl::Span<const int64_t> shape,
                      absl::Span<const double> values) {
    return Add<double>(name, shape, values);
  }
  absl::Status AddI32(absl::string_view name, absl::Span<const int64_t> shape,
                      absl::Span<const int32_t> values) {
    return Add<int32_t>(name, shape, values);
  }
  absl::Status AddI64(absl::string_view name, absl::Span<const int64_t> shape,
                      absl::Span<const int64_t> values) {
    return Add<int64_t>(name, shape, values);
  }
  absl::Status AddU8(absl::string_view name, absl::Span<const int64_t> shape,
                     absl::Span<const uint8_t> values) {
    return Add<uint8_t>(name, shape, values);
  }
  absl::Status AddU64(absl::string_view name, absl::Span<const int64_t> shape,
                      absl::Span<const uint64_t> values) {
    return Add<uint64_t>(name, shape, values);
  }
  template <typename T>
  absl::Status Add(absl::string_view name, absl::Span<const int64_t> shape,
                   absl::Span<const T> values) {
    return AddRaw(name, DTypeOf<T>::value, shape, values.size(),
                  reinterpret_cast<const uint8_t*>(values.data()));
  }

  // Sets a user metadata entry (string -> string, as safetensors requires;
  // store numbers as decimal text and structured values as JSON text).
  // Overwrites an earlier value for the key. InvalidArgument for the reserved
  // keys (format, format_version, crc32, header_crc32) or invalid UTF-8.
  absl::Status SetMetadata(absl::string_view key, absl::string_view value);

  size_t num_tensors() const { return tensors_.size(); }

  // The complete file contents that WriteAtomically writes.
  std::string Serialize() const;

  // Writes the checkpoint to `path` atomically: writes `path + ".tmp.<pid>"`,
  // flushes and fsyncs it, renames it over `path` and fsyncs the directory.
  // After a crash at any moment `path` holds either its old contents or the
  // complete new checkpoint. On failure the temporary file is removed and the
  // error names the path and the system error.
  absl::Status WriteAtomically(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };

  absl::Status AddRaw(absl::string_view name, DType dtype,
                      absl::Span<const int64_t> shape, size_t num_elements,
                      const uint8_t* data);
  // Header (including padding) for the current tensors and metadata.
  std::string BuildHeader() const;

  std::vector<Tensor> tensors_;
  absl::flat_hash_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;  // user keys only
};

// Description of one tensor in a checkpoint.
struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  int64_t num_elements;  // product of shape (1 for a scalar)
  uint64_t data_begin;   // byte offsets in the data buffer
  uint64_t data_end;
};

// A checkpoint read into memory and fully validated (structure, sizes and
// both checksums). Move-only; the spans it returns stay valid while it lives.
class Checkpoint {
 public:
  // Reads and validates the file at `path`.
  static absl::StatusOr<Checkpoint> Read(const std::string& path);
  // Same, for file contents already in memory (copied). `source` names the
  // data in error messages.
  static absl::StatusOr<Checkpoint> Parse(
      absl::string_view file_bytes, absl::string_view source = "<memory>");

  Checkpoint(Checkpoint&&) = default;
  Checkpoint& operator=(Checkpoint&&) = default;
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  // The path (or `source`) the checkpoint was read from.
  const std::string& source() const { return source_; }

  // All tensors, in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  std::vector<std::string> names() const;
  bool Has(absl::string_view name) const { return index_.contains(name); }
  // NotFound if there is no tensor `name`.
  absl::StatusOr<const TensorInfo*> Info(absl::string_view name) const;

  // A tensor's values in row-major order. NotFound if absent; InvalidArgument
  // if its dtype differs from the requested one or, when `expected_shape` is
  // given, its shape differs (the message names both shapes).
  template <typename T>
  absl::StatusOr<absl::Span<const T>> Get(absl::string_view name) const {
    absl::StatusOr<RawView> raw = Raw(name, DTypeOf<T>::value, nullptr);
    if (!raw.ok()) return raw.status();
    return absl::Span<const T>(reinterpret_cast<const T*>(raw->data),
                               raw->num_elements);
  }
  template <typename T>
  absl::StatusOr<absl::Span<const T>> Get(
      absl::string_view name, absl::Span<const int64_t> expected_shape) const {
    absl::StatusOr<RawView> raw = Raw(name, DTypeOf<T>::value, &expected_shape);
    if (!raw.ok()) return raw.status();
    return absl::Span<const T>(reinterpret_cast<const T*>(raw->data),
                               raw->num_elements);
  }

  absl::StatusOr<absl::Span<const float>> F32(absl::string_view name) const {
    return Get<float>(name);
  }
  absl::StatusOr<absl::Span<const double>> F64(absl::string_view name) const {
    return Get<double>(name);
  }
  absl::StatusOr<absl::Span<const int32_t>> I32(absl::string_view name) const {
    return Get<int32_t>(name);
  }
  absl::StatusOr<absl::Span<const int64_t>> I64(absl::string_view name) const {
    return Get<int64_t>(name);
  }
  absl::StatusOr<absl::Span<const uint8_t>> U8(absl::string_view name) const {
    return Get<uint8_t>(name);
  }
  absl::StatusOr<absl::Span<const uint64_t>> U64(absl::string_view name) const {
    return Get<uint64_t>(name);
  }

  absl::StatusOr<absl::Span<const float>> F32(
      absl::string_view name, absl::Span<const int64_t> expected_shape) const {
    return Get<float>(name, expected_shape);
  }
  absl::StatusOr<absl::Span<const double>> F64(
      absl::string_view name, absl::Span<const int64_t> expected_shape) const {
    return Get<double>(name, expected_shape);
  }
  absl::StatusOr<absl::Span<const int32_t>> I32(
      absl::string_view name, absl::Span<const int64_t> expected_shape) const {
    return Get<int32_t>(name, expected_shape);
  }
  absl::StatusOr<absl::Span<const int64_t>> I64(
      absl::string_view name, absl::Span<const int64_t> expected_shape) const {
    return Get<int64_t>(name, expected_shape);
  }
  absl::StatusOr<absl::Span<const uint8_t>> U8(
      absl::string_view name, absl::Span<const int64_t> expected_shape) const {
    return Get<uint8_t>(name, expected_shape);
  }
  absl::StatusOr<absl::Span<const uint64_t>> U64(
      absl::string_view name, absl::Span<const int64_t> expected_shape) const {
    return Get<uint64_t>(name, expected_shape);
  }

  // All "__metadata__" entries, including the reserved format keys.
  const std::map<std::string, std::string, std::less<>>& metadata() const {
    return metadata_;
  }
  // NotFound (naming the key and the file) if `key` is absent.
  absl::StatusOr<std::string> GetMetadata(absl::string_view key) const;

  // DataLoss naming the file, the first F32 or F64 tensor holding a NaN or an
  // infinity, the element and its value (e.g. weights saved from a run that
  // diverged); OK when every floating-point value is finite.
  absl::Status CheckFinite() const;

 private:
  struct Entry {
    size_t tensor;        // index in tensors_
    const uint8_t* data;  // aligned for the dtype
  };
  struct RawView {
    const uint8_t* data;
    size_t num_elements;
  };

  Checkpoint() = default;
  static absl::StatusOr<Checkpoint> FromBuffer(
      std::unique_ptr<uint64_t[]> storage, size_t size, std::string source);
  // The header length field checked against the file size (>= 8 bytes).
  static absl::StatusOr<uint64_t> HeaderSize(uint64_t length_field,
                                             uint64_t file_size,
                                             const std::string& source);
  // A checkpoint with everything the `header` describes, checked against the
  // file size; no data yet (FromBuffer checks its CRC and indexes it).
  static absl::StatusOr<Checkpoint> ParseHeader(absl::string_view header,
                                                uint64_t file_size,
                                                const std::string& source);
  // Fills index_ from tensors_ for the data section at `buffer` (inside
  // storage_), copying tensors misaligned for their dtype into realigned_.
  void IndexTensors(const uint8_t* buffer);
  absl::StatusOr<RawView> Raw(
      absl::string_view name, DType dtype,
      const absl::Span<const int64_t>* expected_shape) const;

  std::string source_;
  // The whole file, 8-byte aligned. Tensors whose offset is not a multiple of
  // their element size get an aligned copy in realigned_.
  std::unique_ptr<uint64_t[]> storage_;
  std::vector<std::unique_ptr<uint64_t[]>> realigned_;
  std::vector<TensorInfo> tensors_;
  absl::flat_hash_map<std::string, Entry> index_;
  std::map<std::string, std::string, std::less<>> metadata_;
  uint32_t data_crc_ = 0;  // from the header
};

}  // namespace psg::io

#endif  // PSG_IO_CHECKPOINT_H_
