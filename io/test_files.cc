#include "io/test_files.h"

#include <fstream>
#include <iterator>

namespace psg::io {

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace psg::io
