// The checkpoint reader on arbitrary bytes: Parse must return a status (never
// crash, leak or read out of bounds), and what it accepts must be readable
// through every accessor and survive a rewrite unchanged.
//
// Each input is read twice: as a file, and "sealed" the way a writer seals
// one: the text before its first NUL byte is the header's JSON, the rest the
// data; the length field is prepended, "@CRC@" in the text becomes the data's
// CRC-32 and the first "header_crc32":"........" the header's. Random bytes
// almost never carry valid checksums, so without the second reading the
// fuzzer would not get past them to the tensor entries and the accessors.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "io/checkpoint.h"

namespace {

using psg::io::Checkpoint;
using psg::io::DType;

void CheckTrue(bool condition) {
  if (!condition) std::abort();
}

uint32_t Crc32(absl::string_view bytes) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

std::string Sealed(absl::string_view input) {
  const size_t nul = input.find('\0');
  if (nul == absl::string_view::npos) return "";
  const absl::string_view data = input.substr(nul + 1);
  std::string header = absl::StrReplaceAll(input.substr(0, nul), {{"@CRC@", absl::StrFormat("%08x", Crc32(data))}});
  const std::string key = "\"header_crc32\":\"";
  const size_t at = header.find(key);
  if (at != std::string::npos && at + key.size() + 8 <= header.size()) {
    header.replace(at + key.size(), 8, "00000000");
    header.replace(at + key.size(), 8, absl::StrFormat("%08x", Crc32(header)));
  }
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
  return file + header + std::string(data);
}

void Check(absl::string_view bytes) {
  absl::StatusOr<Checkpoint> ckpt = Checkpoint::Parse(bytes, "fuzz");
  if (!ckpt.ok()) return;
  (void)ckpt->CheckFinite();
  (void)ckpt->GetMetadata("epoch");
  psg::io::CheckpointWriter rewrite;
  for (const psg::io::TensorInfo& t : ckpt->tensors()) {
    CheckTrue(ckpt->Has(t.name));
    CheckTrue(ckpt->Info(t.name).ok());
    absl::StatusOr<absl::Span<const uint8_t>> as_u8 = ckpt->U8(t.name);
    CheckTrue(as_u8.ok() == (t.dtype == DType::kU8));
    CheckTrue(ckpt->Get<double>(t.name, t.shape).ok() == (t.dtype == DType::kF64));
    // Every element readable: sum the bytes of the typed view.
    uint64_t sum = 0;
    // The spans are copied out of their StatusOr (a range-for over *F32(..)
    // would read a destroyed temporary).
    switch (t.dtype) {
      case DType::kF32: {
        const absl::Span<const float> values = *ckpt->F32(t.name);
        for (float v : values) sum += static_cast<uint64_t>(v == v);
        CheckTrue(rewrite.AddF32(t.name, t.shape, values).ok());
        break;
      }
      case DType::kF64: {
        const absl::Span<const double> values = *ckpt->F64(t.name);
        for (double v : values) sum += static_cast<uint64_t>(v == v);
        CheckTrue(rewrite.AddF64(t.name, t.shape, values).ok());
        break;
      }
      case DType::kI32: {
        const absl::Span<const int32_t> values = *ckpt->I32(t.name);
        for (int32_t v : values) sum += static_cast<uint32_t>(v);
        CheckTrue(rewrite.AddI32(t.name, t.shape, values).ok());
        break;
      }
      case DType::kI64: {
        const absl::Span<const int64_t> values = *ckpt->I64(t.name);
        for (int64_t v : values) sum += static_cast<uint64_t>(v);
        CheckTrue(rewrite.AddI64(t.name, t.shape, values).ok());
        break;
      }
      case DType::kU8: {
        const absl::Span<const uint8_t> values = *as_u8;
        for (uint8_t v : values) sum += v;
        CheckTrue(rewrite.AddU8(t.name, t.shape, values).ok());
        break;
      }
      case DType::kU64: {
        const absl::Span<const uint64_t> values = *ckpt->U64(t.name);
        for (uint64_t v : values) sum += v;
        CheckTrue(rewrite.AddU64(t.name, t.shape, values).ok());
        break;
      }
    }
    (void)sum;
  }
  for (const auto& [key, value] : ckpt->metadata()) {
    if (key != "format" && key != "format_version" && key != "crc32" && key != "header_crc32") {
      CheckTrue(rewrite.SetMetadata(key, value).ok());
    }
  }
  // What the reader accepts, the writer writes back, and the reader reads
  // the same tensors and metadata from it.
  absl::StatusOr<Checkpoint> again = Checkpoint::Parse(rewrite.Serialize(), "rewrite");
  CheckTrue(again.ok());
  CheckTrue(again->tensors().size() == ckpt->tensors().size());
  for (size_t i = 0; i < ckpt->tensors().size(); ++i) {
    const psg::io::TensorInfo& a = ckpt->tensors()[i];
    const psg::io::TensorInfo& b = again->tensors()[i];
    CheckTrue(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape);
  }
  CheckTrue(again->metadata().size() == ckpt->metadata().size());
  for (const auto& [key, value] : ckpt->metadata()) {
    const bool checksum = key == "crc32" || key == "header_crc32";
    CheckTrue(again->metadata().count(key) == 1 && (checksum || again->metadata().at(key) == value));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  Check(input);
  if (const std::string sealed = Sealed(input); !sealed.empty()) Check(sealed);
  return 0;
}
