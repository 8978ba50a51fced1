#include "io/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/finite.h"
#include "io/files.h"
#include "io/json.h"
#include "io/json_writer.h"

namespace psg::io {
namespace {

using internal::FindInvalidUtf8;
using internal::JsonMember;
using internal::JsonValue;

constexpr absl::string_view kMetadataKey = "__metadata__";
constexpr char kCrcPlaceholder[] = "00000000";  // 8 digits
constexpr DType kAllDTypes[] = {DType::kF32, DType::kF64, DType::kI32,
                                DType::kI64, DType::kU8,  DType::kU64};

// Larger than any header a checkpoint needs (safetensors' own limit is
// 100 MB); a corrupt length field is rejected before it is allocated.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

// A name or key as a JSON string literal, for error messages.
std::string Quote(absl::string_view s) { return JsonCompact(Json(std::string(s))); }

uint32_t Crc32(const uint8_t* data, size_t size, uint32_t crc = 0) {
  uLong c = crc;
  // zlib's length argument is 32-bit; feed large buffers in chunks.
  constexpr size_t kChunk = size_t{1} << 30;
  while (size > 0) {
    const size_t n = std::min(size, kChunk);
    c = crc32(c, data, static_cast<uInt>(n));
    data += n;
    size -= n;
  }
  return static_cast<uint32_t>(c);
}

std::string Hex8(uint32_t v) { return absl::StrFormat("%08x", v); }

// Parses exactly 8 lower-case hex digits (the only spelling the format
// allows, so that no single-byte change of a checksum goes unnoticed).
bool ParseHex8(absl::string_view s, uint32_t* out) {
  if (s.size() != 8) return false;
  uint32_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

bool ParseDType(absl::string_view s, DType* out) {
  for (DType d : kAllDTypes) {
    if (DTypeName(d) == s) {
      *out = d;
      return true;
    }
  }
  return false;
}

bool IsReservedMetadataKey(absl::string_view key) {
  return key == kMetadataFormat || key == kMetadataFormatVersion ||
         key == kMetadataCrc32 || key == kMetadataHeaderCrc32;
}

// Product of `shape`; false on a negative dimension or int64 overflow.
bool NumElements(absl::Span<const int64_t> shape, int64_t* out) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return false;
  }
  *out = n;
  return true;
}

void AppendLittleEndianU64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF64:
      return "F64";
    case DType::kI32:
      return "I32";
    case DType::kI64:
      return "I64";
    case DType::kU8:
      return "U8";
    case DType::kU64:
      return "U64";
  }
  return "?";
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kF64:
      return 8;
    case DType::kI32:
      return 4;
    case DType::kI64:
      return 8;
    case DType::kU8:
      return 1;
    case DType::kU64:
      return 8;
  }
  return 0;
}

std::string ShapeString(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

// ---------------------------------------------------------------------------
// CheckpointWriter

absl::Status CheckpointWriter::AddRaw(absl::string_view name, DType dtype,
                                      absl::Span<const int64_t> shape,
                                      size_t num_elements,
                                      const uint8_t* data) {
  if (name.empty()) {
    return absl::InvalidArgumentError("checkpoint tensor name is empty");
  }
  if (name == kMetadataKey) {
    return absl::InvalidArgumentError(
        "checkpoint tensor name \"__metadata__\" is reserved");
  }
  if (FindInvalidUtf8(name) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint tensor name ", Quote(absl::CHexEscape(name)),
                     " is not valid UTF-8"));
  }
  if (index_.contains(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint tensor ", Quote(name), " was already added"));
  }
  int64_t expected;
  if (!NumElements(shape, &expected)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint tensor ", Quote(name), ": invalid shape ",
        ShapeString(shape), " (negative dimension or too many elements)"));
  }
  if (static_cast<uint64_t>(expected) != num_elements) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint tensor ", Quote(name), ": shape ",
                     ShapeString(shape), " has ", expected, " elements but ",
                     num_elements, " values were given"));
  }
  Tensor t;
  t.name = std::string(name);
  t.dtype = dtype;
  t.shape.assign(shape.begin(), shape.end());
  const size_t nbytes = num_elements * DTypeSize(dtype);
  if (nbytes > 0) t.bytes.assign(data, data + nbytes);
  index_.emplace(t.name, tensors_.size());
  tensors_.push_back(std::move(t));
  return absl::OkStatus();
}

absl::Status CheckpointWriter::SetMetadata(absl::string_view key,
                                           absl::string_view value) {
  if (IsReservedMetadataKey(key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint metadata key ", Quote(key),
                     " is reserved (written by CheckpointWriter itself)"));
  }
  if (FindInvalidUtf8(key) != absl::string_view::npos ||
      FindInvalidUtf8(value) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint metadata key ", Quote(absl::CHexEscape(key)),
                     ": key and value must be valid UTF-8"));
  }
  metadata_[std::string(key)] = std::string(value);
  return absl::OkStatus();
}

std::string CheckpointWriter::BuildHeader() const {
  uint32_t data_crc = 0;
  for (const Tensor& t : tensors_) {
    data_crc = Crc32(t.bytes.data(), t.bytes.size(), data_crc);
  }
  Json metadata = Json::object();
  metadata[kMetadataFormat] = kFormatName;
  metadata[kMetadataFormatVersion] = absl::StrCat(kFormatVersion);
  metadata[kMetadataCrc32] = Hex8(data_crc);
  metadata[kMetadataHeaderCrc32] = kCrcPlaceholder;
  for (const auto& [key, value] : metadata_) metadata[key] = value;
  Json header = Json::object();
  header[std::string(kMetadataKey)] = std::move(metadata);
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    header[t.name] = {{"dtype", std::string(DTypeName(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", Json::array({offset, offset + t.bytes.size()})}};
    offset += t.bytes.size();
  }
  std::string h = JsonCompact(header);
  // safetensors convention: pad with spaces so the data starts 8-aligned.
  h.append((8 - h.size() % 8) % 8, ' ');

  // The placeholder's digits: the first "header_crc32" key is the reserved
  // one (inside a string, a '"' is escaped, so no value can spell it).
  const std::string key = absl::StrCat("\"", kMetadataHeaderCrc32, "\":\"");
  const size_t header_crc_pos = h.find(key) + key.size();
  const uint32_t header_crc =
      Crc32(reinterpret_cast<const uint8_t*>(h.data()), h.size());
  h.replace(header_crc_pos, 8, Hex8(header_crc));
  return h;
}

std::string CheckpointWriter::Serialize() const {
  const std::string header = BuildHeader();
  std::string out;
  size_t total = 8 + header.size();
  for (const Tensor& t : tensors_) total += t.bytes.size();
  out.reserve(total);
  AppendLittleEndianU64(header.size(), &out);
  out += header;
  for (const Tensor& t : tensors_) {
    out.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  }
  return out;
}

absl::Status CheckpointWriter::WriteAtomically(const std::string& path) const {
  const std::string header = BuildHeader();
  std::string length;
  AppendLittleEndianU64(header.size(), &length);
  std::vector<absl::string_view> pieces = {length, header};
  for (const Tensor& t : tensors_) {
    pieces.emplace_back(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  }
  return WriteFileAtomically(path, pieces);
}

// ---------------------------------------------------------------------------
// Checkpoint (reader)

absl::StatusOr<Checkpoint> Checkpoint::Read(const std::string& path) {
  absl::StatusOr<RegularFile> file = RegularFile::Open(path, "checkpoint");
  if (!file.ok()) return file.status();
  const uint64_t size = file->size();
  // The header first: a file that is no checkpoint (e.g. a sparse 100 GB
  // file) is rejected before its size is allocated.
  if (size >= 8) {
    uint64_t length;
    if (absl::Status s = file->ReadAt(0, &length, 8); !s.ok()) return s;
    absl::StatusOr<uint64_t> header_size = HeaderSize(length, size, path);
    if (!header_size.ok()) return header_size.status();
    std::string header(*header_size, '\0');
    if (absl::Status s = file->ReadAt(8, header.data(), header.size()); !s.ok()) return s;
    absl::StatusOr<Checkpoint> layout = ParseHeader(header, size, path);
    if (!layout.ok()) return layout.status();
  }
  std::unique_ptr<uint64_t[]> storage(new (std::nothrow) uint64_t[(size + 7) / 8 + 1]);
  if (storage == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "checkpoint '", path, "': cannot allocate the ", size, " bytes needed to read it"));
  }
  if (absl::Status s = file->ReadAt(0, storage.get(), size); !s.ok()) return s;
  return FromBuffer(std::move(storage), size, path);
}

absl::StatusOr<Checkpoint> Checkpoint::Parse(absl::string_view file_bytes,
                                             absl::string_view source) {
  std::unique_ptr<uint64_t[]> storage(
      new uint64_t[(file_bytes.size() + 7) / 8 + 1]);
  if (!file_bytes.empty()) {
    std::memcpy(storage.get(), file_bytes.data(), file_bytes.size());
  }
  return FromBuffer(std::move(storage), file_bytes.size(), std::string(source));
}

absl::StatusOr<uint64_t> Checkpoint::HeaderSize(uint64_t length_field, uint64_t file_size,
                                                const std::string& source) {
  if (length_field > file_size - 8) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint '", source, "': file is truncated or not a checkpoint: the header length field says ",
        length_field, " header bytes but only ", file_size - 8, " bytes follow it (file size ",
        file_size, " bytes)"));
  }
  if (length_field > kMaxHeaderBytes) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint '", source, "': not a checkpoint: the header length field says ", length_field,
        " bytes, more than the ", kMaxHeaderBytes, " a header may have"));
  }
  return length_field;
}

namespace {

// Reader errors all start with "checkpoint '<source>': " (`where`). DataLoss:
// the file is corrupt or truncated; NotOurs: it is some other format.
template <typename... Parts>
absl::Status DataLoss(absl::string_view where, const Parts&... parts) {
  return absl::DataLossError(absl::StrCat(where, parts...));
}
template <typename... Parts>
absl::Status NotOurs(absl::string_view where, const Parts&... parts) {
  return absl::FailedPreconditionError(absl::StrCat(where, parts...));
}

// The value of `key` in a JSON object, or null; the first one, since where
// duplicates matter they have already been rejected.
const JsonValue* FindMember(const JsonValue& object, absl::string_view key) {
  for (const JsonMember& m : object.object) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

// The header's one "__metadata__" object: without it the file is not ours,
// repeated or of another JSON kind it is corrupt.
absl::StatusOr<const JsonValue*> FindMetadataObject(const JsonValue& root,
                                                    absl::string_view where) {
  const JsonValue* metadata = nullptr;
  for (const JsonMember& m : root.object) {
    if (m.key != kMetadataKey) continue;
    if (metadata != nullptr) return DataLoss(where, "duplicate key \"__metadata__\"");
    metadata = &m.value;
  }
  if (metadata == nullptr) {
    return NotOurs(where,
                   "header has no \"__metadata__\": not a psg-toolkit "
                   "checkpoint (expected metadata format=\"",
                   kFormatName, "\")");
  }
  if (metadata->kind != JsonValue::Kind::kObject) {
    return DataLoss(where, "\"__metadata__\" is not a JSON object");
  }
  return metadata;
}

// Every metadata entry into `out`: the format only has string values, each
// key once, so that Checkpoint::metadata() is exactly what the file says.
absl::Status CollectMetadata(const JsonValue& metadata, absl::string_view where,
                             std::map<std::string, std::string, std::less<>>* out) {
  for (const JsonMember& m : metadata.object) {
    if (m.value.kind != JsonValue::Kind::kString) {
      return DataLoss(where, "metadata value for ", Quote(m.key), " is not a string");
    }
    if (!out->emplace(m.key, m.value.string).second) {
      return DataLoss(where, "duplicate metadata key ", Quote(m.key));
    }
  }
  return absl::OkStatus();
}

// The header checksum, checked before the rest of the metadata so that a
// corrupt header is reported as such. It covers the N header bytes with its
// own 8 digits set to '0'.
absl::Status CheckHeaderCrc(absl::string_view header, const JsonValue& crc_value,
                            absl::string_view where) {
  uint32_t stored;
  const size_t at = crc_value.offset;  // opening quote
  if (!ParseHex8(crc_value.string, &stored) || header.size() < at + 10 ||
      header[at + 9] != '"' || header.substr(at + 1, 8) != crc_value.string) {
    return DataLoss(where, "checkpoint header is corrupt: metadata \"", kMetadataHeaderCrc32,
                    "\" is ", Quote(crc_value.string), ", expected 8 lower-case hex digits");
  }
  std::string copy(header);
  copy.replace(at + 1, 8, kCrcPlaceholder);
  const uint32_t actual = Crc32(reinterpret_cast<const uint8_t*>(copy.data()), copy.size());
  if (actual != stored) {
    return DataLoss(where,
                    "checkpoint header is corrupt: header_crc32 mismatch "
                    "over the ",
                    header.size(), "-byte header: expected ", Hex8(stored),
                    " (stored in the header), got ", Hex8(actual));
  }
  return absl::OkStatus();
}

// Format name and version first (a mismatch means another format or a newer
// writer, not corruption), then the two checksums this version requires.
// Returns the data buffer's CRC.
absl::StatusOr<uint32_t> CheckFormatAndDataCrc(const JsonValue& metadata, bool has_header_crc,
                                               absl::string_view where) {
  const JsonValue* format = FindMember(metadata, kMetadataFormat);
  if (format == nullptr) {
    return NotOurs(where,
                   "metadata has no \"format\" key: not a psg-toolkit "
                   "checkpoint (expected format \"",
                   kFormatName, "\")");
  }
  if (format->string != kFormatName) {
    return NotOurs(where, "metadata format is ", Quote(format->string), ", expected \"",
                   kFormatName, "\": not a psg-toolkit checkpoint");
  }
  const JsonValue* version = FindMember(metadata, kMetadataFormatVersion);
  if (version == nullptr) {
    return NotOurs(where,
                   "metadata has no \"format_version\" key (this reader "
                   "supports format_version ",
                   kFormatVersion, ")");
  }
  if (version->string != absl::StrCat(kFormatVersion)) {
    return NotOurs(where, "unsupported format_version ", Quote(version->string),
                   ": this reader supports format_version ", kFormatVersion,
                   " only (a newer psg-toolkit may read it)");
  }
  if (!has_header_crc) {
    return DataLoss(where, "metadata has no \"", kMetadataHeaderCrc32,
                    "\" (required in format_version ", kFormatVersion, ")");
  }
  const JsonValue* crc_value = FindMember(metadata, kMetadataCrc32);
  if (crc_value == nullptr) {
    return DataLoss(where, "metadata has no \"", kMetadataCrc32,
                    "\" (required in format_version ", kFormatVersion, ")");
  }
  uint32_t data_crc = 0;
  if (!ParseHex8(crc_value->string, &data_crc)) {
    return DataLoss(where, "metadata \"", kMetadataCrc32, "\" is ", Quote(crc_value->string),
                    ", expected 8 lower-case hex digits");
  }
  return data_crc;
}

// A tensor entry's three fields, each exactly once and nothing else, so that
// a misspelt key is an error rather than silently ignored.
struct TensorFields {
  const JsonValue* dtype = nullptr;
  const JsonValue* shape = nullptr;
  const JsonValue* data_offsets = nullptr;
};

// `t` is the error prefix naming the tensor ("checkpoint '...': tensor ...: ").
absl::StatusOr<TensorFields> FindTensorFields(const JsonValue& entry, absl::string_view t) {
  if (entry.kind != JsonValue::Kind::kObject) {
    return DataLoss(t, "entry is not a JSON object");
  }
  TensorFields fields;
  for (const JsonMember& f : entry.object) {
    const JsonValue** slot = f.key == "dtype"          ? &fields.dtype
                             : f.key == "shape"        ? &fields.shape
                             : f.key == "data_offsets" ? &fields.data_offsets
                                                       : nullptr;
    if (slot == nullptr) {
      return DataLoss(t, "unexpected key ", Quote(f.key),
                      " (expected dtype, shape, data_offsets)");
    }
    if (*slot != nullptr) return DataLoss(t, "duplicate key ", Quote(f.key));
    *slot = &f.value;
  }
  if (fields.dtype == nullptr || fields.shape == nullptr || fields.data_offsets == nullptr) {
    return DataLoss(t, "missing ",
                    fields.dtype == nullptr   ? "\"dtype\""
                    : fields.shape == nullptr ? "\"shape\""
                                              : "\"data_offsets\"");
  }
  return fields;
}

// One tensor entry, validated on its own: a known dtype, a shape whose byte
// size fits in 64 bits, and data_offsets spanning exactly that many bytes
// right after the previous tensor (`next_begin`), so that tensors neither
// overlap nor leave unchecked bytes between them.
absl::StatusOr<TensorInfo> ParseTensorEntry(const JsonMember& m, uint64_t next_begin,
                                            absl::string_view where) {
  const std::string t = absl::StrCat(where, "tensor ", Quote(m.key), ": ");
  absl::StatusOr<TensorFields> fields = FindTensorFields(m.value, t);
  if (!fields.ok()) return fields.status();
  const JsonValue& dtype_v = *fields->dtype;
  const JsonValue& shape_v = *fields->shape;
  const JsonValue& offsets_v = *fields->data_offsets;

  TensorInfo info;
  info.name = m.key;
  if (dtype_v.kind != JsonValue::Kind::kString) {
    return DataLoss(t, "dtype is not a string");
  }
  if (!ParseDType(dtype_v.string, &info.dtype)) {
    return DataLoss(t, "unknown dtype ", Quote(dtype_v.string),
                    " (supported: F32, F64, I32, I64, U8, U64)");
  }
  if (shape_v.kind != JsonValue::Kind::kArray) {
    return DataLoss(t, "shape is not an array");
  }
  for (const JsonValue& d : shape_v.array) {
    if (d.kind != JsonValue::Kind::kInteger || d.integer < 0) {
      return DataLoss(t, "shape must be an array of non-negative integers");
    }
    info.shape.push_back(d.integer);
  }
  uint64_t nbytes;
  if (!NumElements(info.shape, &info.num_elements) ||
      __builtin_mul_overflow(static_cast<uint64_t>(info.num_elements),
                             static_cast<uint64_t>(DTypeSize(info.dtype)), &nbytes)) {
    return DataLoss(t, "shape ", ShapeString(info.shape), " is too large");
  }
  if (offsets_v.kind != JsonValue::Kind::kArray || offsets_v.array.size() != 2 ||
      offsets_v.array[0].kind != JsonValue::Kind::kInteger ||
      offsets_v.array[1].kind != JsonValue::Kind::kInteger || offsets_v.array[0].integer < 0 ||
      offsets_v.array[1].integer < offsets_v.array[0].integer) {
    return DataLoss(t,
                    "data_offsets must be [begin, end] with "
                    "0 <= begin <= end");
  }
  info.data_begin = static_cast<uint64_t>(offsets_v.array[0].integer);
  info.data_end = static_cast<uint64_t>(offsets_v.array[1].integer);
  const std::string offsets_text = absl::StrCat("[", info.data_begin, ",", info.data_end, "]");
  if (info.data_end - info.data_begin != nbytes) {
    return DataLoss(t, "dtype ", DTypeName(info.dtype), " shape ", ShapeString(info.shape),
                    " needs ", nbytes, " bytes but data_offsets ", offsets_text, " span ",
                    info.data_end - info.data_begin, " bytes");
  }
  if (info.data_begin != next_begin) {
    return DataLoss(t, "data_offsets ", offsets_text, " ",
                    info.data_begin < next_begin ? "overlap" : "leave a gap after",
                    " the previous tensor, which ends at byte ", next_begin,
                    " (tensors must be contiguous and in header order)");
  }
  return info;
}

// Every tensor entry of the header, in header order; names must be non-empty
// and unique, since tensors are looked up by name.
absl::StatusOr<std::vector<TensorInfo>> ParseTensorEntries(const JsonValue& root,
                                                           absl::string_view where) {
  std::vector<TensorInfo> tensors;
  absl::flat_hash_set<absl::string_view> seen;
  uint64_t next_begin = 0;
  for (const JsonMember& m : root.object) {
    if (m.key == kMetadataKey) continue;
    if (m.key.empty()) return DataLoss(where, "tensor with an empty name");
    if (!seen.insert(m.key).second) {
      return DataLoss(where, "duplicate tensor name ", Quote(m.key));
    }
    absl::StatusOr<TensorInfo> info = ParseTensorEntry(m, next_begin, where);
    if (!info.ok()) return info.status();
    next_begin = info->data_end;
    tensors.push_back(*std::move(info));
  }
  return tensors;
}

// The data section must hold exactly the tensors' bytes: fewer means a
// truncated file, more means bytes no checksum-checked tensor accounts for.
// (Its checksum needs the data itself: CheckDataCrc, from FromBuffer.)
absl::Status CheckDataSectionSize(uint64_t data_bytes, uint64_t file_size, uint64_t header_size,
                                  absl::string_view where) {
  const uint64_t buffer_size = file_size - 8 - header_size;
  if (buffer_size < data_bytes) {
    return DataLoss(where, "file is truncated: the header describes ", data_bytes,
                    " bytes of tensor data but only ", buffer_size, " are present (file size ",
                    file_size, " bytes, expected ", 8 + header_size + data_bytes, ")");
  }
  if (buffer_size > data_bytes) {
    return DataLoss(where, "file size mismatch: ", buffer_size - data_bytes,
                    " unexpected bytes after the last tensor (file size ", file_size,
                    " bytes, expected ", 8 + header_size + data_bytes, ")");
  }
  return absl::OkStatus();
}

// The data buffer against the CRC stored in the header: the only check that
// catches corrupt tensor values.
absl::Status CheckDataCrc(const uint8_t* buffer, uint64_t buffer_size, uint32_t expected,
                          absl::string_view where) {
  const uint32_t actual = Crc32(buffer, buffer_size);
  if (actual != expected) {
    return DataLoss(where, "checkpoint data is corrupt: crc32 mismatch over the ", buffer_size,
                    "-byte data buffer: expected ", Hex8(expected),
                    " (stored in the header), got ", Hex8(actual));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Checkpoint> Checkpoint::FromBuffer(
    std::unique_ptr<uint64_t[]> storage, size_t size, std::string source) {
  const uint8_t* file = reinterpret_cast<const uint8_t*>(storage.get());
  if (size < 8) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint '", source, "': file is truncated: it is ", size,
        " bytes, shorter than the 8-byte header length field"));
  }
  uint64_t length;
  std::memcpy(&length, file, 8);  // little-endian host (static_assert)
  absl::StatusOr<uint64_t> header_size = HeaderSize(length, size, source);
  if (!header_size.ok()) return header_size.status();
  absl::StatusOr<Checkpoint> parsed = ParseHeader(
      absl::string_view(reinterpret_cast<const char*>(file + 8), *header_size), size, source);
  if (!parsed.ok()) return parsed.status();
  Checkpoint ckpt = *std::move(parsed);
  const uint8_t* buffer = file + 8 + *header_size;
  if (absl::Status s = CheckDataCrc(buffer, size - 8 - *header_size, ckpt.data_crc_,
                                    absl::StrCat("checkpoint '", source, "': "));
      !s.ok()) {
    return s;
  }
  ckpt.storage_ = std::move(storage);
  ckpt.IndexTensors(buffer);
  return absl::StatusOr<Checkpoint>(std::move(ckpt));
}

void Checkpoint::IndexTensors(const uint8_t* buffer) {
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TensorInfo& info = tensors_[i];
    const size_t nbytes = info.data_end - info.data_begin;
    const uint8_t* data = buffer + info.data_begin;
    if (nbytes == 0) {
      data = reinterpret_cast<const uint8_t*>(storage_.get());  // any aligned pointer
    } else if (reinterpret_cast<uintptr_t>(data) % DTypeSize(info.dtype) != 0) {
      std::unique_ptr<uint64_t[]> copy(new uint64_t[(nbytes + 7) / 8]);
      std::memcpy(copy.get(), data, nbytes);
      data = reinterpret_cast<const uint8_t*>(copy.get());
      realigned_.push_back(std::move(copy));
    }
    index_.emplace(info.name, Entry{i, data});
  }
}

absl::StatusOr<Checkpoint> Checkpoint::ParseHeader(absl::string_view header, uint64_t size,
                                                   const std::string& source) {
  const std::string where = absl::StrCat("checkpoint '", source, "': ");
  absl::StatusOr<JsonValue> root = internal::ParseJson(header);
  if (!root.ok()) {
    return DataLoss(where, "header is not valid JSON: ", root.status().message());
  }
  if (root->kind != JsonValue::Kind::kObject) {
    return DataLoss(where, "header is not a JSON object");
  }

  absl::StatusOr<const JsonValue*> metadata = FindMetadataObject(*root, where);
  if (!metadata.ok()) return metadata.status();
  Checkpoint ckpt;
  if (absl::Status s = CollectMetadata(**metadata, where, &ckpt.metadata_); !s.ok()) return s;
  const JsonValue* header_crc = FindMember(**metadata, kMetadataHeaderCrc32);
  if (header_crc != nullptr) {
    if (absl::Status s = CheckHeaderCrc(header, *header_crc, where); !s.ok()) return s;
  }
  absl::StatusOr<uint32_t> data_crc =
      CheckFormatAndDataCrc(**metadata, header_crc != nullptr, where);
  if (!data_crc.ok()) return data_crc.status();

  absl::StatusOr<std::vector<TensorInfo>> tensors = ParseTensorEntries(*root, where);
  if (!tensors.ok()) return tensors.status();
  const uint64_t data_bytes = tensors->empty() ? 0 : tensors->back().data_end;
  if (absl::Status s = CheckDataSectionSize(data_bytes, size, header.size(), where); !s.ok()) {
    return s;
  }
  ckpt.tensors_ = *std::move(tensors);
  ckpt.data_crc_ = *data_crc;
  ckpt.source_ = source;
  return absl::StatusOr<Checkpoint>(std::move(ckpt));
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const TensorInfo& t : tensors_) out.push_back(t.name);
  return out;
}

absl::StatusOr<const TensorInfo*> Checkpoint::Info(
    absl::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "checkpoint '", source_, "' has no tensor named ", Quote(name)));
  }
  return &tensors_[it->second.tensor];
}

absl::StatusOr<Checkpoint::RawView> Checkpoint::Raw(
    absl::string_view name, DType dtype,
    const absl::Span<const int64_t>* expected_shape) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "checkpoint '", source_, "' has no tensor named ", Quote(name)));
  }
  const TensorInfo& info = tensors_[it->second.tensor];
  if (info.dtype != dtype) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint '", source_, "': tensor ", Quote(name), " has dtype ",
        DTypeName(info.dtype), ", requested ", DTypeName(dtype)));
  }
  if (expected_shape != nullptr &&
      !std::equal(info.shape.begin(), info.shape.end(), expected_shape->begin(),
                  expected_shape->end())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint '", source_, "': tensor ", Quote(name), " has shape ",
        ShapeString(info.shape), ", expected ", ShapeString(*expected_shape)));
  }
  return RawView{it->second.data, static_cast<size_t>(info.num_elements)};
}

absl::Status Checkpoint::CheckFinite() const {
  for (const TensorInfo& info : tensors_) {
    const uint8_t* data = index_.at(info.name).data;
    int64_t bad = -1;
    double value = 0;
    const size_t n = static_cast<size_t>(info.num_elements);
    if (info.dtype == DType::kF32) {
      const absl::Span<const float> f(reinterpret_cast<const float*>(data), n);
      bad = engine::FirstNonFinite(f);
      if (bad >= 0) value = f[bad];
    } else if (info.dtype == DType::kF64) {
      const absl::Span<const double> d(reinterpret_cast<const double*>(data), n);
      bad = engine::FirstNonFinite(d);
      if (bad >= 0) value = d[bad];
    }
    if (bad >= 0) {
      return absl::DataLossError(absl::StrCat(
          "checkpoint '", source_, "': tensor ", Quote(info.name), " holds a non-finite value (",
          value, " at element ", bad, " of shape ", ShapeString(info.shape),
          "): it was saved from a run that diverged"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Checkpoint::GetMetadata(
    absl::string_view key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "checkpoint '", source_, "' has no metadata key ", Quote(key)));
  }
  return it->second;
}

}  // namespace psg::io
