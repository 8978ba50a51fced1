#include "experiments/testing/fake_data.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

namespace psg::experiments::testing {
namespace {

namespace fs = std::filesystem;

void WriteBigEndian32(std::ofstream& out, uint32_t v) {
  const char bytes[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.write(bytes, 4);
}

void WriteIdx(const std::string& images_path, const std::string& labels_path, int64_t count,
              std::mt19937& rng) {
  std::ofstream images(images_path, std::ios::binary), labels(labels_path, std::ios::binary);
  images.write("\0\0\x08\x03", 4);
  WriteBigEndian32(images, count);
  WriteBigEndian32(images, 28);
  WriteBigEndian32(images, 28);
  labels.write("\0\0\x08\x01", 4);
  WriteBigEndian32(labels, count);
  std::vector<char> image(28 * 28);
  for (int64_t i = 0; i < count; ++i) {
    for (char& p : image) p = static_cast<char>(rng());
    images.write(image.data(), image.size());
    labels.put(static_cast<char>(i % 10));
  }
}

}  // namespace

std::string WriteFakeCifar10(const std::string& root) {
  const std::string dir = root + "/cifar-10-batches-bin";
  fs::create_directories(dir);
  std::mt19937 rng(1);
  std::vector<char> record(1 + 3072);
  for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                           "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    for (int i = 0; i < 10000; ++i) {
      record[0] = static_cast<char>(rng() % 10);
      for (size_t k = 1; k < record.size(); ++k) record[k] = static_cast<char>(rng());
      out.write(record.data(), record.size());
    }
  }
  return root;
}

std::string WriteFakeFashionMnist(const std::string& root, int64_t train, int64_t test) {
  fs::create_directories(root);
  std::mt19937 rng(2);
  WriteIdx(root + "/train-images-idx3-ubyte", root + "/train-labels-idx1-ubyte", train, rng);
  WriteIdx(root + "/t10k-images-idx3-ubyte", root + "/t10k-labels-idx1-ubyte", test, rng);
  return root;
}

std::string ImageNetFromSample(const std::string& sample, const std::string& root) {
  fs::create_directories(root);
  for (const char* split : {"train", "val"}) {
    fs::remove(root + "/" + split);
    fs::create_directory_symlink(sample, root + "/" + split);
  }
  return root;
}

std::string ImageNetSampleDir() {
  if (const char* dir = std::getenv("PSG_IMAGENET_SAMPLE")) return dir;
  const char* runfiles = std::getenv("TEST_SRCDIR");
  if (runfiles == nullptr) return "";
  std::error_code error;
  const fs::path build =
      fs::canonical(fs::path(runfiles) / "psg_toolkit/experiments/BUILD", error);
  if (error) return "";
  const fs::path sample =
      build.parent_path().parent_path().parent_path() / "shared/data/imagenet-sample";
  return fs::is_directory(sample, error) ? sample.string() : "";
}

}  // namespace psg::experiments::testing
