#include "io/checkpoint.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_files.h"

namespace psg::io {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

#define PSG_ASSERT_OK(expr)                     \
  do {                                          \
    const absl::Status psg_status = (expr);     \
    ASSERT_TRUE(psg_status.ok()) << psg_status; \
  } while (0)

// ---------------------------------------------------------------------------
// Helpers, independent of the code under test (zlib and byte strings only).

std::string MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string templ =
      absl::StrCat(base != nullptr ? base : "/tmp", "/ckptXXXXXX");
  char* made = mkdtemp(templ.data());
  EXPECT_NE(made, nullptr) << std::strerror(errno);
  return templ;
}

void WriteFileBytes(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  DIR* d = opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << dir;
  if (d == nullptr) return names;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.insert(name);
  }
  closedir(d);
  return names;
}

uint32_t Crc(absl::string_view s) {
  return static_cast<uint32_t>(crc32(0,
                                     reinterpret_cast<const Bytef*>(s.data()),
                                     static_cast<uInt>(s.size())));
}

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

uint64_t HeaderSize(const std::string& file) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(file[i]);
  return n;
}

// Builds file bytes from header JSON text: "@CRC@" becomes the data crc32,
// the header is space-padded to a multiple of 8, and a "header_crc32" value
// of "00000000" is replaced by the header checksum.
std::string SealFile(std::string header, absl::string_view data) {
  if (size_t p = header.find("@CRC@"); p != std::string::npos) {
    header.replace(p, 5, Hex8(Crc(data)));
  }
  header.append((8 - header.size() % 8) % 8, ' ');
  if (size_t k = header.find("\"header_crc32\""); k != std::string::npos) {
    const size_t v = header.find("\"00000000\"", k);
    if (v != std::string::npos) header.replace(v + 1, 8, Hex8(Crc(header)));
  }
  std::string out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
  out += header;
  out.append(data.data(), data.size());
  return out;
}

// Replaces `from` by `to` in the header of a valid file and re-seals the
// header checksum, so that only the edited field is wrong.
std::string EditHeader(const std::string& file, absl::string_view from,
                       absl::string_view to) {
  const uint64_t n = HeaderSize(file);
  std::string header = file.substr(8, n);
  const std::string data = file.substr(8 + n);
  header.erase(header.find_last_not_of(' ') + 1);
  const size_t k = header.find("\"header_crc32\":\"");
  EXPECT_NE(k, std::string::npos);
  header.replace(k + 16, 8, "00000000");
  const size_t p = header.find(std::string(from));
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) header.replace(p, from.size(), std::string(to));
  return SealFile(header, data);
}

// A writer with one tensor of each dtype, including a scalar, zero-size
// tensors and tensors that end up misaligned in the file.
CheckpointWriter SampleWriter() {
  CheckpointWriter w;
  EXPECT_TRUE(w.AddF32("layer1.0.conv1.weight", {2, 3},
                       {1.5f, -2.25f, 0.0f, 3e38f, -0.0f, 1e-40f})
                  .ok());
  EXPECT_TRUE(w.AddF64("scalar", {}, {3.141592653589793}).ok());
  EXPECT_TRUE(w.AddI32("i32", {2, 2},
                       {std::numeric_limits<int32_t>::min(), -1, 0,
                        std::numeric_limits<int32_t>::max()})
                  .ok());
  EXPECT_TRUE(w.AddI64("optim/layer1.0.conv1.weight/step", {4},
                       {std::numeric_limits<int64_t>::min(), -7, 42,
                        std::numeric_limits<int64_t>::max()})
                  .ok());
  EXPECT_TRUE(w.AddU8("mask", {5}, {0, 1, 127, 128, 255}).ok());
  // Starts at byte 85 of the data buffer: not 8-aligned.
  EXPECT_TRUE(
      w.AddU64("rng/shuffle", {3}, {0, 1, std::numeric_limits<uint64_t>::max()})
          .ok());
  EXPECT_TRUE(w.AddF32("empty.weight", {0, 3}, {}).ok());
  EXPECT_TRUE(w.AddU8("empty.mask", {0}, {}).ok());
  EXPECT_TRUE(w.AddF32("after.odd", {2}, {INFINITY, -1.0f}).ok());
  EXPECT_TRUE(w.SetMetadata("epoch", "12").ok());
  return w;
}

template <typename T>
bool AlignedFor(const T* p) {
  return reinterpret_cast<uintptr_t>(p) % alignof(T) == 0;
}

// ---------------------------------------------------------------------------
// Round trips

TEST(CheckpointTest, RoundTripAllDTypesAndShapes) {
  const std::string path = MakeTempDir() + "/model.safetensors";
  PSG_ASSERT_OK(SampleWriter().WriteAtomically(path));

  absl::StatusOr<Checkpoint> read = Checkpoint::Read(path);
  ASSERT_TRUE(read.ok()) << read.status();
  // Moving the checkpoint must keep every span valid.
  Checkpoint ckpt = std::move(read).value();
  EXPECT_EQ(ckpt.source(), path);
  EXPECT_THAT(
      ckpt.names(),
      ElementsAre("layer1.0.conv1.weight", "scalar", "i32",
                  "optim/layer1.0.conv1.weight/step", "mask", "rng/shuffle",
                  "empty.weight", "empty.mask", "after.odd"));

  absl::StatusOr<absl::Span<const float>> f32 =
      ckpt.F32("layer1.0.conv1.weight", {2, 3});
  ASSERT_TRUE(f32.ok()) << f32.status();
  const float expected_f32[] = {1.5f, -2.25f, 0.0f, 3e38f, -0.0f, 1e-40f};
  ASSERT_EQ(f32->size(), 6u);
  EXPECT_EQ(std::memcmp(f32->data(), expected_f32, sizeof expected_f32), 0);
  EXPECT_TRUE(AlignedFor(f32->data()));

  absl::StatusOr<absl::Span<const double>> f64 = ckpt.F64("scalar", {});
  ASSERT_TRUE(f64.ok()) << f64.status();
  EXPECT_THAT(*f64, ElementsAre(3.141592653589793));

  absl::StatusOr<absl::Span<const int32_t>> i32 = ckpt.I32("i32", {2, 2});
  ASSERT_TRUE(i32.ok()) << i32.status();
  EXPECT_THAT(*i32, ElementsAre(std::numeric_limits<int32_t>::min(), -1, 0,
                                std::numeric_limits<int32_t>::max()));

  absl::StatusOr<absl::Span<const int64_t>> i64 =
      ckpt.I64("optim/layer1.0.conv1.weight/step");
  ASSERT_TRUE(i64.ok()) << i64.status();
  EXPECT_THAT(*i64, ElementsAre(std::numeric_limits<int64_t>::min(), -7, 42,
                                std::numeric_limits<int64_t>::max()));

  absl::StatusOr<absl::Span<const uint8_t>> u8 = ckpt.U8("mask", {5});
  ASSERT_TRUE(u8.ok()) << u8.status();
  EXPECT_THAT(*u8, ElementsAre(0, 1, 127, 128, 255));

  absl::StatusOr<absl::Span<const uint64_t>> u64 = ckpt.U64("rng/shuffle", {3});
  ASSERT_TRUE(u64.ok()) << u64.status();
  EXPECT_THAT(*u64, ElementsAre(0u, 1u, std::numeric_limits<uint64_t>::max()));
  EXPECT_TRUE(AlignedFor(u64->data()));

  absl::StatusOr<absl::Span<const float>> empty =
      ckpt.F32("empty.weight", {0, 3});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  absl::StatusOr<absl::Span<const uint8_t>> empty_u8 =
      ckpt.U8("empty.mask", {0});
  ASSERT_TRUE(empty_u8.ok()) << empty_u8.status();
  EXPECT_TRUE(empty_u8->empty());

  absl::StatusOr<absl::Span<const float>> odd = ckpt.Get<float>("after.odd");
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_THAT(*odd, ElementsAre(INFINITY, -1.0f));
  EXPECT_TRUE(AlignedFor(odd->data()));

  // Tensor descriptions.
  absl::StatusOr<const TensorInfo*> info = ckpt.Info("rng/shuffle");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ((*info)->dtype, DType::kU64);
  EXPECT_THAT((*info)->shape, ElementsAre(3));
  EXPECT_EQ((*info)->num_elements, 3);
  EXPECT_EQ((*info)->data_begin, 85u);
  EXPECT_EQ((*info)->data_end, 109u);
  const TensorInfo& scalar = ckpt.tensors()[1];
  EXPECT_EQ(scalar.name, "scalar");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.num_elements, 1);
  EXPECT_EQ(ckpt.tensors()[6].num_elements, 0);
  EXPECT_TRUE(ckpt.Has("mask"));
  EXPECT_FALSE(ckpt.Has("masks"));

  // Writing to a file and serializing in memory give the same bytes.
  EXPECT_EQ(ReadTestFile(path), SampleWriter().Serialize());
}

TEST(CheckpointTest, RoundTripEmptyCheckpointAndLargeTensor) {
  const std::string dir = MakeTempDir();
  CheckpointWriter empty;
  PSG_ASSERT_OK(empty.WriteAtomically(dir + "/empty.safetensors"));
  absl::StatusOr<Checkpoint> e = Checkpoint::Read(dir + "/empty.safetensors");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->tensors().empty());
  EXPECT_EQ(e->metadata().at("crc32"), "00000000");

  std::vector<float> big(1 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i) * 0.5f;
  CheckpointWriter w;
  PSG_ASSERT_OK(w.AddF32("big", {1024, 1024}, big));
  PSG_ASSERT_OK(w.WriteAtomically(dir + "/big.safetensors"));
  absl::StatusOr<Checkpoint> b = Checkpoint::Read(dir + "/big.safetensors");
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<absl::Span<const float>> v = b->F32("big", {1024, 1024});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_THAT(*v, ElementsAreArray(big));
}

TEST(CheckpointTest, MetadataRoundTrip) {
  CheckpointWriter w;
  PSG_ASSERT_OK(w.AddU8("x", {1}, {1}));
  PSG_ASSERT_OK(w.SetMetadata("epoch", "11"));
  PSG_ASSERT_OK(w.SetMetadata("epoch", "12"));  // overwrites
  PSG_ASSERT_OK(w.SetMetadata("step", "34000"));
  PSG_ASSERT_OK(
      w.SetMetadata("flags", R"({"lr": 0.1, "psg": true, "bits": [4, 8]})"));
  PSG_ASSERT_OK(
      w.SetMetadata("note", "multi\nline \"quoted\" back\\slash \xC3\xA9\t"));
  PSG_ASSERT_OK(w.SetMetadata("empty_value", ""));
  PSG_ASSERT_OK(w.SetMetadata("", "empty key"));

  for (const char* reserved :
       {"format", "format_version", "crc32", "header_crc32"}) {
    const absl::Status s = w.SetMetadata(reserved, "x");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << reserved;
    EXPECT_THAT(std::string(s.message()), HasSubstr("reserved"));
  }
  EXPECT_EQ(w.SetMetadata("bad\xFF", "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.SetMetadata("k", "bad\xC3").code(),
            absl::StatusCode::kInvalidArgument);

  const std::string path = MakeTempDir() + "/m.safetensors";
  PSG_ASSERT_OK(w.WriteAtomically(path));
  absl::StatusOr<Checkpoint> ckpt = Checkpoint::Read(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  const auto& md = ckpt->metadata();
  EXPECT_EQ(md.size(), 10u);  // 6 user keys + 4 reserved keys
  EXPECT_EQ(md.at("format"), "psg-toolkit-checkpoint");
  EXPECT_EQ(md.at("format_version"), "1");
  EXPECT_EQ(md.at("epoch"), "12");
  EXPECT_EQ(md.at("step"), "34000");
  EXPECT_EQ(md.at("flags"), R"({"lr": 0.1, "psg": true, "bits": [4, 8]})");
  EXPECT_EQ(md.at("note"), "multi\nline \"quoted\" back\\slash \xC3\xA9\t");
  EXPECT_EQ(md.at("empty_value"), "");
  EXPECT_EQ(md.at(""), "empty key");
  absl::StatusOr<std::string> epoch = ckpt->GetMetadata("epoch");
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(*epoch, "12");
  absl::StatusOr<std::string> missing = ckpt->GetMetadata("seed");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("\"seed\""));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(path));
}

// The on-disk bytes of a tiny checkpoint, laid out by hand. The two CRCs were
// computed independently with Python's zlib.crc32 (see docs).
TEST(CheckpointTest, FileBytesMatchHandBuiltLayout) {
  CheckpointWriter w;
  const std::string tricky_name = "b\"\\\n\xC3\xA9";  // b " \ newline é
  PSG_ASSERT_OK(w.AddF32("a", {2}, {1.0f, -2.0f}));
  PSG_ASSERT_OK(w.AddU8(tricky_name, {}, {7}));
  PSG_ASSERT_OK(w.AddI64("c", {0}, {}));
  PSG_ASSERT_OK(w.SetMetadata("epoch", "3"));

  const std::string header_json =
      "{\"__metadata__\":{\"format\":\"psg-toolkit-checkpoint\","
      "\"format_version\":\"1\",\"crc32\":\"cead09c9\","
      "\"header_crc32\":\"e34bfe82\",\"epoch\":\"3\"},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\\\"\\\\\\n\xC3\xA9\":{\"dtype\":\"U8\",\"shape\":[],"
      "\"data_offsets\":[8,9]},"
      "\"c\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[9,9]}}";
  ASSERT_EQ(header_json.size(), 295u);
  const std::string header = header_json + " ";  // padded to 296
  const std::string length("\x28\x01\x00\x00\x00\x00\x00\x00", 8);  // 296 LE
  const std::string data(
      "\x00\x00\x80\x3f"  // 1.0f
      "\x00\x00\x00\xc0"  // -2.0f
      "\x07",             // 7
      9);
  const std::string expected = length + header + data;

  const std::string actual = w.Serialize();
  EXPECT_EQ(actual, expected);
  const std::string path = MakeTempDir() + "/tiny.safetensors";
  PSG_ASSERT_OK(w.WriteAtomically(path));
  EXPECT_EQ(ReadTestFile(path), expected);

  // The reader accepts the hand-built bytes.
  absl::StatusOr<Checkpoint> ckpt = Checkpoint::Parse(expected, "hand-built");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_THAT(ckpt->names(), ElementsAre("a", tricky_name, "c"));
  EXPECT_THAT(*ckpt->U8(tricky_name, {}), ElementsAre(7));
  EXPECT_THAT(*ckpt->F32("a", {2}), ElementsAre(1.0f, -2.0f));
  EXPECT_TRUE(ckpt->I64("c", {0})->empty());
}

// A header written by another safetensors writer: pretty-printed, keys in
// another order, metadata last, a \u escape. Accepted as long as it follows
// the format.
TEST(CheckpointTest, AcceptsOtherSpellingsOfTheHeader) {
  const std::string data("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  const std::string header =
      "{\n  \"w\": {\"shape\": [2], \"dtype\": \"F32\", "
      "\"data_offsets\": [0, 8]},\n"
      "  \"__metadata__\": {\"crc32\": \"@CRC@\", \"format_version\": \"1\","
      " \"format\": \"psg-toolkit-checkpoint\", \"header_crc32\": "
      "\"00000000\", \"user\": \"\\u00e9\"}\n}";
  absl::StatusOr<Checkpoint> ckpt = Checkpoint::Parse(SealFile(header, data));
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_THAT(*ckpt->F32("w", {2}), ElementsAre(1.0f, 2.0f));
  EXPECT_EQ(ckpt->metadata().at("user"), "\xC3\xA9");

  // Checksums must be lower-case hex: an upper-cased digit is a changed byte.
  std::string upper = header;
  upper.replace(upper.find("@CRC@"), 5, Hex8(Crc(data)));
  for (size_t i = upper.find("\"crc32\": \"") + 10; upper[i] != '"'; ++i) {
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  }
  ASSERT_NE(Hex8(Crc(data)).find_first_of("abcdef"), std::string::npos);
  absl::StatusOr<Checkpoint> rejected =
      Checkpoint::Parse(SealFile(upper, data));
  EXPECT_THAT(std::string(rejected.status().message()),
              HasSubstr("expected 8 lower-case hex digits"));
}

// ---------------------------------------------------------------------------
// Corruption and truncation

TEST(CheckpointTest, EveryTruncationIsRejected) {
  const std::string file = SampleWriter().Serialize();
  const uint64_t n = HeaderSize(file);
  ASSERT_GT(file.size(), 8 + n);
  for (size_t cut = 0; cut < file.size(); ++cut) {
    absl::StatusOr<Checkpoint> c =
        Checkpoint::Parse(file.substr(0, cut), "cut");
    ASSERT_FALSE(c.ok()) << "cut at " << cut << " accepted";
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("truncated"))
        << "cut at " << cut;
  }
  // Data-region cuts say how many bytes were expected and how many are there.
  absl::StatusOr<Checkpoint> c =
      Checkpoint::Parse(file.substr(0, file.size() - 3), "cut");
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(absl::StrCat("expected ", file.size())));
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(absl::StrCat("file size ", file.size() - 3)));

  // The same through real files, with the path in the message.
  const std::string dir = MakeTempDir();
  for (size_t cut : {size_t{0}, size_t{5}, size_t{8}, size_t{8 + n / 2},
                     size_t{8 + n}, size_t{8 + n + 1}, file.size() - 1}) {
    const std::string path = absl::StrCat(dir, "/cut", cut, ".safetensors");
    WriteFileBytes(path, file.substr(0, cut));
    absl::StatusOr<Checkpoint> r = Checkpoint::Read(path);
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("truncated"));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));
  }

  // Extra bytes at the end are rejected too.
  absl::StatusOr<Checkpoint> longer = Checkpoint::Parse(file + "x", "longer");
  EXPECT_EQ(longer.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(longer.status().message()),
              HasSubstr("1 unexpected bytes after the last tensor"));
}

TEST(CheckpointTest, EveryFlippedDataByteIsRejectedByCrc) {
  const std::string file = SampleWriter().Serialize();
  const uint64_t n = HeaderSize(file);
  ASSERT_TRUE(Checkpoint::Parse(file).ok());
  for (size_t pos = 8 + n; pos < file.size(); ++pos) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string bad = file;
      bad[pos] = static_cast<char>(bad[pos] ^ mask);
      absl::StatusOr<Checkpoint> c = Checkpoint::Parse(bad, "flipped");
      ASSERT_FALSE(c.ok()) << "flip at " << pos << " accepted";
      EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
      const std::string msg(c.status().message());
      EXPECT_THAT(msg, HasSubstr("checkpoint data is corrupt: crc32"));
      EXPECT_THAT(msg, HasSubstr("expected " + Hex8(Crc(file.substr(8 + n)))));
      EXPECT_THAT(msg, HasSubstr("got " + Hex8(Crc(bad.substr(8 + n)))));
    }
  }
}

TEST(CheckpointTest, EveryFlippedHeaderByteIsRejected) {
  const std::string file = SampleWriter().Serialize();
  const uint64_t n = HeaderSize(file);
  int reported_as_corrupt_header = 0;
  for (size_t pos = 0; pos < 8 + n; ++pos) {
    for (uint8_t mask : {0x01, 0x02, 0x20, 0x80}) {
      std::string bad = file;
      bad[pos] = static_cast<char>(bad[pos] ^ mask);
      absl::StatusOr<Checkpoint> c = Checkpoint::Parse(bad, "flipped");
      ASSERT_FALSE(c.ok()) << "flip of byte " << pos << " with mask "
                           << int{mask} << " accepted";
      if (absl::string_view(c.status().message()).find("header is corrupt") !=
          absl::string_view::npos) {
        ++reported_as_corrupt_header;
      }
    }
  }
  EXPECT_GT(reported_as_corrupt_header, 0);

  // A flip inside a tensor name keeps the JSON valid: only the header
  // checksum can catch it.
  const size_t name_pos = file.find("layer1.0.conv1.weight");
  ASSERT_NE(name_pos, std::string::npos);
  std::string renamed = file;
  renamed[name_pos + 5] = '2';  // "layer2.0.conv1.weight"
  absl::StatusOr<Checkpoint> c = Checkpoint::Parse(renamed, "renamed");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("checkpoint header is corrupt: header_crc32 mismatch"));
  // Same for a metadata value.
  std::string epoch = file;
  epoch[file.find("\"epoch\":\"12\"") + 10] = '3';
  EXPECT_THAT(std::string(Checkpoint::Parse(epoch).status().message()),
              HasSubstr("header is corrupt"));
}

TEST(CheckpointTest, FormatAndVersionChecks) {
  const std::string file = SampleWriter().Serialize();
  ASSERT_TRUE(Checkpoint::Parse(EditHeader(file, "", "")).ok())
      << "EditHeader must reseal correctly";

  absl::StatusOr<Checkpoint> v2 = Checkpoint::Parse(
      EditHeader(file, "\"format_version\":\"1\"", "\"format_version\":\"2\""),
      "v2");
  EXPECT_EQ(v2.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(v2.status().message()),
              HasSubstr("unsupported format_version \"2\""));
  EXPECT_THAT(std::string(v2.status().message()),
              HasSubstr("supports format_version 1"));

  absl::StatusOr<Checkpoint> no_version = Checkpoint::Parse(
      EditHeader(file, "\"format_version\":", "\"formatversion\":"));
  EXPECT_EQ(no_version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(no_version.status().message()),
              HasSubstr("no \"format_version\""));

  absl::StatusOr<Checkpoint> other = Checkpoint::Parse(
      EditHeader(file, "psg-toolkit-checkpoint", "other-checkpoint"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(other.status().message()),
              HasSubstr("format is \"other-checkpoint\", expected "
                        "\"psg-toolkit-checkpoint\""));

  absl::StatusOr<Checkpoint> no_format =
      Checkpoint::Parse(EditHeader(file, "\"format\":", "\"fmt\":"));
  EXPECT_EQ(no_format.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(no_format.status().message()),
              HasSubstr("not a psg-toolkit checkpoint"));

  // A plain safetensors file (no psg metadata).
  absl::StatusOr<Checkpoint> plain = Checkpoint::Parse(
      SealFile(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
               std::string(4, '\0')));
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(plain.status().message()),
              HasSubstr("not a psg-toolkit checkpoint"));
}

TEST(CheckpointTest, MalformedHeadersAreRejectedWithSpecificMessages) {
  const std::string meta =
      R"("__metadata__":{"format":"psg-toolkit-checkpoint","format_version":"1","crc32":"@CRC@","header_crc32":"00000000"})";
  const std::string x8 =
      R"("x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string d8(8, '\x11');
  const std::string d12(12, '\x11');
  const std::string d16(16, '\x11');
  struct Case {
    std::string header;
    std::string data;
    std::string expected;
  };
  const Case cases[] = {
      {"{" + meta + "," +
           R"("x":{"dtype":"F16","shape":[4],"data_offsets":[0,8]})" + "}",
       d8, "tensor \"x\": unknown dtype \"F16\""},
      {"{" + meta + "," +
           R"("x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]})" + "}",
       d8,
       "dtype F32 shape [3] needs 12 bytes but data_offsets [0,8] span 8 "
       "bytes"},
      {"{" + meta + "," + x8 + "," +
           R"("y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})" + "}",
       d12, "tensor \"y\": data_offsets [4,8] overlap the previous tensor"},
      {"{" + meta + "," + x8 + "," +
           R"("y":{"dtype":"F32","shape":[1],"data_offsets":[12,16]})" + "}",
       d16, "leave a gap"},
      {"{" + meta + "," +
           R"("y":{"dtype":"F32","shape":[1],"data_offsets":[8,12]})" + "," +
           x8 + "}",
       d12, "contiguous and in header order"},
      {"{" + meta + "," + x8 + "," +
           R"("y":{"dtype":"F32","shape":[1],"data_offsets":[8,12]})" + "}",
       d8,
       "truncated: the header describes 12 bytes of tensor data but only 8"},
      {"{" + meta + "," + x8 + "," +
           R"("x":{"dtype":"F32","shape":[0],"data_offsets":[8,8]})" + "}",
       d8, "duplicate tensor name \"x\""},
      {"{" + meta + "," + x8 + "} x", d8, "header is not valid JSON"},
      {"{" + meta + "," + x8, d8, "header is not valid JSON"},
      {"{" + meta + "," + x8 + ",\"z\":null}", d8, "header is not valid JSON"},
      {"[" + meta + "]", d8, "header is not valid JSON"},
      {"[]", "", "header is not a JSON object"},
      {"{" + meta + "," +
           R"("x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]})" + "}",
       d8, "non-negative"},
      {"{" + meta + "," +
           R"("x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]})" + "}",
       d8, "0 <= begin <= end"},
      {"{" + meta + "," +
           R"("x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1})" +
           "}",
       d8, "unexpected key \"extra\""},
      {"{" + meta + "," + R"("x":{"dtype":"F32","data_offsets":[0,8]})" + "}",
       d8, "missing \"shape\""},
      {"{" + meta + "," +
           R"("":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})" + "}",
       d8, "empty name"},
      {"{" + meta + "," + meta + "," + x8 + "}", d8,
       "duplicate key \"__metadata__\""},
      {R"({"__metadata__":{"format":"psg-toolkit-checkpoint","format_version":"1","crc32":"@CRC@","header_crc32":"00000000","step":3},)" +
           x8 + "}",
       d8, "metadata value for \"step\" is not a string"},
      {R"({"__metadata__":{"format":"psg-toolkit-checkpoint","format_version":"1","crc32":"nothex!!","header_crc32":"00000000"},)" +
           x8 + "}",
       d8, "\"crc32\" is \"nothex!!\", expected 8 lower-case hex digits"},
      {R"({"__metadata__":{"format":"psg-toolkit-checkpoint","format_version":"1","header_crc32":"00000000"},)" +
           x8 + "}",
       d8, "no \"crc32\""},
      {R"({"__metadata__":{"format":"psg-toolkit-checkpoint","format_version":"1","crc32":"@CRC@"},)" +
           x8 + "}",
       d8, "no \"header_crc32\""},
      {R"({"__metadata__":{"format":"psg-toolkit-checkpoint","format_version":"1","crc32":"@CRC@","header_crc32":"12345678"},)" +
           x8 + "}",
       d8, "checkpoint header is corrupt: header_crc32 mismatch"},
      {R"({"__metadata__":{"format":"psg-toolkit-checkpoint","format_version":"1","crc32":"@CRC@","header_crc32":"\u0030\u0030\u0030\u0030\u0030\u0030\u0030\u0030"},)" +
           x8 + "}",
       d8, "expected 8 lower-case hex digits"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Checkpoint> r =
        Checkpoint::Parse(SealFile(c.header, c.data), "bad");
    ASSERT_FALSE(r.ok()) << c.header;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.expected))
        << c.header;
    EXPECT_THAT(std::string(r.status().message()),
                HasSubstr("checkpoint 'bad': "));
  }
  // Sanity check of the helper: the base case is accepted.
  EXPECT_TRUE(
      Checkpoint::Parse(SealFile("{" + meta + "," + x8 + "}", d8)).ok());
}

// ---------------------------------------------------------------------------
// Lookups and writer validation

TEST(CheckpointTest, LookupErrorsNameTensorAndShapes) {
  absl::StatusOr<Checkpoint> ckpt =
      Checkpoint::Parse(SampleWriter().Serialize(), "mem");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();

  absl::StatusOr<absl::Span<const float>> absent = ckpt->F32("layer9.weight");
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(absent.status().message(),
            "checkpoint 'mem' has no tensor named \"layer9.weight\"");
  EXPECT_EQ(ckpt->Info("layer9.weight").status().code(),
            absl::StatusCode::kNotFound);

  absl::StatusOr<absl::Span<const int64_t>> dtype =
      ckpt->I64("layer1.0.conv1.weight");
  EXPECT_EQ(dtype.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dtype.status().message(),
            "checkpoint 'mem': tensor \"layer1.0.conv1.weight\" has dtype F32, "
            "requested I64");

  absl::StatusOr<absl::Span<const float>> shape =
      ckpt->F32("layer1.0.conv1.weight", {3, 2});
  EXPECT_EQ(shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(shape.status().message(),
            "checkpoint 'mem': tensor \"layer1.0.conv1.weight\" has shape "
            "[2,3], expected [3,2]");
  EXPECT_FALSE(ckpt->F64("scalar", {1}).ok());  // [] is not [1]
  EXPECT_FALSE(ckpt->F32("empty.weight", {0}).ok());
}

TEST(CheckpointTest, WriterRejectsInvalidTensors) {
  CheckpointWriter w;
  PSG_ASSERT_OK(w.AddF32("w", {2}, {1, 2}));
  const auto code = [](const absl::Status& s) { return s.code(); };
  EXPECT_EQ(code(w.AddF32("w", {2}, {1, 2})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(w.AddF32("w", {2}, {1, 2}).message()),
              HasSubstr("already added"));
  EXPECT_THAT(std::string(w.AddF32("v", {2, 2}, {1, 2, 3}).message()),
              HasSubstr("shape [2,2] has 4 elements but 3 values were given"));
  EXPECT_EQ(code(w.AddF32("v", {-1}, {})), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w.AddF32("", {1}, {1})), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w.AddF32("__metadata__", {1}, {1})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w.AddF32("bad\xC3", {1}, {1})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(w.AddU8("huge", {std::numeric_limits<int64_t>::max(), 4}, {})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.num_tensors(), 1u);
}

// ---------------------------------------------------------------------------
// Atomic writes

CheckpointWriter OneTensor(float value) {
  CheckpointWriter w;
  EXPECT_TRUE(w.AddF32("v", {1}, {value}).ok());
  return w;
}

float ReadValue(const std::string& path) {
  absl::StatusOr<Checkpoint> c = Checkpoint::Read(path);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return NAN;
  return (*c->F32("v", {1}))[0];
}

TEST(CheckpointAtomicWriteTest, ReplacesExistingFileAndLeavesNoTempFiles) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/ckpt.safetensors";
  PSG_ASSERT_OK(OneTensor(1.0f).WriteAtomically(path));
  EXPECT_EQ(ReadValue(path), 1.0f);
  PSG_ASSERT_OK(OneTensor(2.0f).WriteAtomically(path));
  EXPECT_EQ(ReadValue(path), 2.0f);
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"ckpt.safetensors"});
}

TEST(CheckpointAtomicWriteTest, RelativePath) {
  const std::string dir = MakeTempDir();
  char old_cwd[4096];
  ASSERT_NE(getcwd(old_cwd, sizeof old_cwd), nullptr);
  ASSERT_EQ(chdir(dir.c_str()), 0);
  const absl::Status s = OneTensor(5.0f).WriteAtomically("rel.safetensors");
  ASSERT_EQ(chdir(old_cwd), 0);
  PSG_ASSERT_OK(s);
  EXPECT_EQ(ReadValue(dir + "/rel.safetensors"), 5.0f);
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"rel.safetensors"});
}

// Issue 18, case 11: paths that are no checkpoint file are named for what
// they are, and a FIFO does not hang the reader.
TEST(CheckpointReadTest, PathsThatAreNoRegularFileAreNamed) {
  const std::string dir = MakeTempDir();
  const std::string fifo = dir + "/fifo.safetensors";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  absl::StatusOr<Checkpoint> from_fifo = Checkpoint::Read(fifo);  // used to block in open(2)
  EXPECT_EQ(from_fifo.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(from_fifo.status().message(), "checkpoint '" + fifo + "': is a FIFO, not a regular file");
  EXPECT_EQ(Checkpoint::Read("/dev/null").status().message(),
            "checkpoint '/dev/null': is a character device, not a regular file");
  EXPECT_EQ(Checkpoint::Read(dir).status().message(),
            "checkpoint '" + dir + "': is a directory, not a regular file");
}

// Case 11: a huge file that is no checkpoint (here a 100 GB sparse file)
// is rejected from its header, naming the file, without allocating its size
// (it used to end in std::bad_alloc).
TEST(CheckpointReadTest, AHugeFileThatIsNoCheckpointIsRejectedFromItsHeader) {
  const std::string path = MakeTempDir() + "/sparse.safetensors";
  constexpr off_t kHundredGb = off_t{100} << 30;
  {
    std::ofstream(path, std::ios::binary) << std::string(8, '\0');
  }
  if (truncate(path.c_str(), kHundredGb) != 0) GTEST_SKIP() << "no sparse files here: " << std::strerror(errno);
  absl::StatusOr<Checkpoint> zeros = Checkpoint::Read(path);
  EXPECT_EQ(zeros.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(zeros.status().message()),
              HasSubstr("checkpoint '" + path + "': header is not valid JSON"));
  // A length field beyond the format's limit for headers.
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    const uint64_t length = uint64_t{1} << 34;
    f.write(reinterpret_cast<const char*>(&length), 8);
  }
  absl::StatusOr<Checkpoint> long_header = Checkpoint::Read(path);
  EXPECT_EQ(long_header.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(long_header.status().message()),
              HasSubstr("header length field says 17179869184 bytes, more than the 104857600"));
  ASSERT_EQ(unlink(path.c_str()), 0);
}

// Case 1: the check a loader runs before accepting weights names the first
// non-finite value, its tensor and element, and the file.
TEST(CheckpointReadTest, CheckFiniteNamesTheFirstNonFiniteValue) {
  CheckpointWriter w;
  PSG_ASSERT_OK(w.AddF32("ok", {2}, {1.0f, -2.0f}));
  PSG_ASSERT_OK(w.AddU8("mask", {1}, {255}));
  PSG_ASSERT_OK(w.AddF64("step", {}, {0.5}));
  absl::StatusOr<Checkpoint> good = Checkpoint::Parse(w.Serialize(), "good");
  ASSERT_TRUE(good.ok());
  PSG_ASSERT_OK(good->CheckFinite());
  std::vector<float> big(200, 1.0f);
  big[130] = std::nanf("");
  big[150] = INFINITY;
  PSG_ASSERT_OK(w.AddF32("layer1.0.conv1.weight", {2, 100}, big));
  PSG_ASSERT_OK(w.AddF64("d", {1}, {-INFINITY}));
  absl::StatusOr<Checkpoint> bad = Checkpoint::Parse(w.Serialize(), "bad");
  ASSERT_TRUE(bad.ok());
  const absl::Status s = bad->CheckFinite();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(),
            "checkpoint 'bad': tensor \"layer1.0.conv1.weight\" holds a non-finite value (nan at element 130 "
            "of shape [2,100]): it was saved from a run that diverged");
}

TEST(CheckpointAtomicWriteTest, PathIsADirectory) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/ckpt.safetensors";
  ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
  WriteFileBytes(path + "/keep", "precious");
  const absl::Status s = OneTensor(1.0f).WriteAtomically(path);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
  EXPECT_THAT(std::string(s.message()), HasSubstr("is a directory"));
  EXPECT_EQ(ReadTestFile(path + "/keep"), "precious");
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"ckpt.safetensors"});

  absl::StatusOr<Checkpoint> r = Checkpoint::Read(path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("is a directory"));
}

TEST(CheckpointAtomicWriteTest, MissingParentDirectory) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/no/such/dir/ckpt.safetensors";
  const absl::Status s = OneTensor(1.0f).WriteAtomically(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
  EXPECT_THAT(std::string(s.message()), HasSubstr("No such file or directory"));
  EXPECT_TRUE(ListDir(dir).empty());

  absl::StatusOr<Checkpoint> r = Checkpoint::Read(path);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("No such file or directory"));
}

TEST(CheckpointAtomicWriteTest, BlockedTempFileKeepsOldFile) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/ckpt.safetensors";
  PSG_ASSERT_OK(OneTensor(1.0f).WriteAtomically(path));
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  ASSERT_EQ(mkdir(tmp.c_str(), 0755), 0);  // the temp file cannot be created
  const absl::Status s = OneTensor(2.0f).WriteAtomically(path);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr(tmp));
  EXPECT_EQ(ReadValue(path), 1.0f);
  ASSERT_EQ(rmdir(tmp.c_str()), 0);
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"ckpt.safetensors"});
}

// Runs `fn` with the permissions of an unprivileged user: in-process when the
// test is not root, else in a child process that drops to uid/gid 65534.
// Returns the status message, or a message starting with "SKIP" when
// privileges cannot be dropped.
std::string RunUnprivileged(const std::function<absl::Status()>& fn, bool* ok) {
  if (geteuid() != 0) {
    const absl::Status s = fn();
    *ok = s.ok();
    return std::string(s.message());
  }
  int fds[2];
  if (pipe(fds) != 0) return "SKIP: pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(77);
    const absl::Status s = fn();
    const std::string msg(s.message());
    if (write(fds[1], msg.data(), msg.size()) < 0) _exit(3);
    _exit(s.ok() ? 1 : 0);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t r;
  while ((r = read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, r);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) {
    *ok = true;  // fails the caller's EXPECT_FALSE(ok)
    return "child process died";
  }
  if (WEXITSTATUS(status) == 77) return "SKIP: cannot drop privileges";
  *ok = WEXITSTATUS(status) == 1;
  return msg;
}

TEST(CheckpointAtomicWriteTest, UnwritableDirectoryKeepsOldFile) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/ckpt.safetensors";
  PSG_ASSERT_OK(OneTensor(1.0f).WriteAtomically(path));
  ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
  bool ok = true;
  const std::string msg = RunUnprivileged(
      [&] { return OneTensor(2.0f).WriteAtomically(path); }, &ok);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  if (msg.rfind("SKIP", 0) == 0) GTEST_SKIP() << msg;
  EXPECT_FALSE(ok);
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("Permission denied"));
  EXPECT_EQ(ReadValue(path), 1.0f);
  EXPECT_EQ(ListDir(dir), std::set<std::string>{"ckpt.safetensors"});
}

}  // namespace
}  // namespace psg::io
