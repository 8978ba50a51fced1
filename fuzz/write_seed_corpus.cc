// Writes the seed corpora of the fuzz targets into <dir>/<target>/: small
// valid inputs of each format and a few variants that reach other branches.
// Run once to (re)create fuzz/corpus; the files are kept in the repository.
//
//   bazel run //fuzz:write_seed_corpus -- $PWD/fuzz/corpus
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/test_jpeg.h"
#include "io/checkpoint.h"

namespace {

namespace fs = std::filesystem;

std::string root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root + "/" + target);
  std::ofstream(root + "/" + target + "/" + name, std::ios::binary) << bytes;
}

std::string Bytes(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

std::string Gzip(const std::string& data) {
  z_stream zs = {};
  deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = data.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void Checkpoints() {
  psg::io::CheckpointWriter small;
  (void)small.AddF32("conv1.weight", {2, 3}, {0.5f, -1, 2, 0, 1e-3f, 7});
  (void)small.AddU64("rng/run_position", {4}, {1, 0, 40, 1});
  (void)small.SetMetadata("epoch", "1");
  (void)small.SetMetadata("flags", R"({"model": "resnet20", "lr": 0.1})");
  (void)small.SetMetadata("resume_invariants", R"({"batch_size": "128"})");
  const std::string small_file = small.Serialize();
  Write("checkpoint_fuzzer", "small", small_file);

  psg::io::CheckpointWriter all;  // every dtype, a scalar, an empty tensor, misaligned data
  (void)all.AddU8("mask", {3}, {1, 0, 1});
  (void)all.AddF32("w", {2}, {1.0f, -2.0f});
  (void)all.AddF64("d", {}, {3.5});
  (void)all.AddI32("i", {2}, {-7, 9});
  (void)all.AddI64("empty", {0, 4}, {});
  (void)all.AddU64("u", {1}, {123456789});
  (void)all.SetMetadata("note", "caf\xC3\xA9 \"quoted\" \\ back");
  Write("checkpoint_fuzzer", "all_dtypes", all.Serialize());

  psg::io::CheckpointWriter nan;
  (void)nan.AddF32("bn1.running_var", {3}, {1, NAN, 1});
  Write("checkpoint_fuzzer", "nan", nan.Serialize());

  for (const auto& [name, file] : {std::pair<std::string, std::string>{"small", small_file},
                                   {"all_dtypes", all.Serialize()},
                                   {"nan", nan.Serialize()}}) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<uint8_t>(file[i]);
    const std::string header = file.substr(8, n), data = file.substr(8 + n);
    // The headers alone, for the header's JSON reader.
    Write("checkpoint_json_fuzzer", name + "_header", header);
    // Unsealed (checkpoint_fuzzer.cc): the header with its checksums as
    // placeholders, a NUL byte, the data.
    std::string unsealed = header;
    const std::string crc_key = "\"crc32\":\"", header_crc_key = "\"header_crc32\":\"";
    unsealed.replace(unsealed.find(crc_key) + crc_key.size(), 8, "@CRC@");
    unsealed.replace(unsealed.find(header_crc_key) + header_crc_key.size(), 8, "00000000");
    Write("checkpoint_fuzzer", name + "_unsealed", unsealed + std::string(1, '\0') + data);
  }
  Write("checkpoint_json_fuzzer", "escapes", R"({"a\"b":["\u00e9\ud83d\ude00",[[[]]],{"":-9223372036854775808}]})");
}

void ResultJson() {
  Write("result_json_fuzzer", "result", R"({"flags": {"model": "resnet20", "milestones": [82, 123], "nesterov": true,
 "init_from": "runs/a \"b\"\\c"}, "final_test_accuracy": 0.9123, "best_test_accuracy": 0.92, "l0_sparsity": null,
 "steps": 15640, "last_epoch_seconds": 1.5e2, "train_images_per_second": -0.0})");
  Write("result_json_fuzzer", "metrics",
        "{\"epoch\":0,\"test_loss\":2.30,\"test_accuracy\":0.1}\n{\"epoch\":1,\"train_loss\":null,"
        "\"lr\":1E-3}\n\n  {\"epoch\": 2, \"qmse/conv1.weight\": 1.25e-07}\n");
  Write("result_json_fuzzer", "ptq", R"({"results": [{"setting": "W4", "weight_bits": 4, "layers":
 [{"name": "conv1.weight", "bits": 8, "size": 432, "mse": 0.000123}]}], "x": "\u00e9\ud83d\ude00\n"})");
  // At the reader's nesting limit (64), with brackets in a string, which do not count.
  Write("result_json_fuzzer", "deep", std::string(63, '[') + R"({"a": "[{\"]"})" + std::string(63, ']'));
}

void Cifar() {
  std::string ten(1 + 3073, '\x40');
  ten[0] = 3 * 1 + 0;  // CIFAR-10, 1 record
  ten[1] = 7;          // label
  Write("cifar_fuzzer", "cifar10_one_record", ten);
  std::string fine(1 + 2 * 3074, '\x80');
  fine[0] = 3 * 2 + 1;  // CIFAR-100 fine labels, 2 records
  fine[1] = 3, fine[2] = 42, fine[1 + 3074] = 19, fine[2 + 3074] = 99;
  Write("cifar_fuzzer", "cifar100_two_records", fine);
  std::string coarse(1 + 3074, '\x01');
  coarse[0] = 3 * 4 + 2;  // CIFAR-100 coarse labels, as many records as it holds
  Write("cifar_fuzzer", "cifar100_coarse_any_count", coarse);
}

void Idx() {
  std::string images = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
  for (int i = 0; i < 12; ++i) images.push_back(static_cast<char>(i * 20));
  const std::string labels = {0, 0, 8, 1, 0, 0, 0, 2, 4, 9};
  // idx_fuzzer.cc: images length (2 bytes), which parts to gzip, images, labels.
  auto pack = [](const std::string& a, const std::string& b, char gzip) {
    return std::string{static_cast<char>(a.size() & 0xff), static_cast<char>(a.size() >> 8), gzip} + a + b;
  };
  Write("idx_fuzzer", "plain", pack(images, labels, 0));
  Write("idx_fuzzer", "gzip", pack(Gzip(images), Gzip(labels), 0));
  Write("idx_fuzzer", "gzip_by_the_fuzzer", pack(images, labels, 3));
  Write("idx_fuzzer", "gzip_two_members", pack(Gzip(images.substr(0, 10)) + Gzip(images.substr(10)), labels, 0));
}

void Jpeg() {
  using psg::data::TestJpegColor;
  std::vector<uint8_t> rgb, gray, cmyk;
  for (int i = 0; i < 8 * 8; ++i) rgb.insert(rgb.end(), {uint8_t(i * 4), uint8_t(255 - i), uint8_t(i * i)});
  for (int i = 0; i < 16 * 8; ++i) gray.push_back(static_cast<uint8_t>(i * 2));
  for (int i = 0; i < 8 * 8; ++i) cmyk.insert(cmyk.end(), {uint8_t(i), uint8_t(200), uint8_t(255 - i), uint8_t(128)});
  Write("jpeg_fuzzer", "rgb_8x8", Bytes(psg::data::EncodeTestJpeg(rgb, 8, 8, TestJpegColor::kRgb, 90)));
  Write("jpeg_fuzzer", "gray_16x8", Bytes(psg::data::EncodeTestJpeg(gray, 16, 8, TestJpegColor::kGray, 75)));
  Write("jpeg_fuzzer", "adobe_cmyk_8x8", Bytes(psg::data::EncodeTestJpeg(cmyk, 8, 8, TestJpegColor::kAdobeCmyk)));
  Write("jpeg_fuzzer", "adobe_ycck_8x8", Bytes(psg::data::EncodeTestJpeg(cmyk, 8, 8, TestJpegColor::kAdobeYcck)));
  Write("jpeg_fuzzer", "plain_cmyk_8x8", Bytes(psg::data::EncodeTestJpeg(cmyk, 8, 8, TestJpegColor::kPlainCmyk)));
}

void ListFlags() {
  Write("list_flags_fuzzer", "milestones", "82,123");
  Write("list_flags_fuzzer", "sparsities", "0.5,0.7,0.8,0.9,0.95");
  Write("list_flags_fuzzer", "bits", "8,6,4,3,2");
  Write("list_flags_fuzzer", "scopes", "layer,global");
  Write("list_flags_fuzzer", "checkpoints", "SGD=runs/sgd/last.safetensors,PSGD=runs/psgd/last.safetensors");
  Write("list_flags_fuzzer", "odd", "-1,1e308,0x10, 4,,nan");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_seed_corpus <corpus dir>\n");
    return 2;
  }
  root = argv[1];
  Checkpoints();
  ResultJson();
  Cifar();
  Idx();
  Jpeg();
  ListFlags();
  std::printf("wrote the seed corpora under %s\n", root.c_str());
  return 0;
}
