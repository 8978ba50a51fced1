#include "experiments/testing/fake_data.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

namespace psg::experiments {

std::string WriteFakeCifar10(const std::string& root) {
  const std::string dir = root + "/cifar-10-batches-bin";
  std::filesystem::create_directories(dir);
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

}  // namespace psg::experiments
