#include "bench/throughput_setup.h"

#include <omp.h>

#include <cstdio>
#include <stdexcept>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/denormals.h"
#include "engine/testing/gradient_check.h"
#include "flags/ranges.h"
#include "models/zoo.h"
#include "report/machine.h"

namespace psg::bench {

std::vector<ThroughputCase> CasesFromFlag(const std::string& models, int64_t batch) {
  if (batch < 0) throw std::invalid_argument(absl::StrCat("batch must be >= 0, got ", batch));
  std::vector<ThroughputCase> cases;
  for (absl::string_view name : absl::StrSplit(models, ',', absl::SkipWhitespace())) {
    ThroughputCase c;
    c.model = std::string(absl::StripAsciiWhitespace(name));
    c.sample = models::InputDims(c.model);  // throws for an unknown model
    c.classes = c.sample[1] == 224 ? 1000 : 10;
    c.batch = batch > 0 ? batch : c.sample[1] == 224 ? 32 : 128;
    cases.push_back(c);
  }
  if (cases.empty()) throw std::invalid_argument("no model given");
  return cases;
}

int SetThreads(int threads) {
  if (threads < 0) throw std::invalid_argument(absl::StrCat("threads must be >= 0, got ", threads));
  if (threads > 0) omp_set_num_threads(threads);
  engine::FlushDenormalsToZero();
  return omp_get_max_threads();
}

engine::Tensor RandomInput(const ThroughputCase& c, uint32_t seed) {
  return engine::testing::RandomPlain({c.batch, c.sample[0], c.sample[1], c.sample[2]}, seed);
}

void WriteResultJson(const std::string& path, const std::string& benchmark, const io::Json& members) {
  if (path.empty()) return;
  io::Json json = {{"benchmark", benchmark}, {"machine", report::MachineJson()}};
  json.update(members);
  if (absl::Status s = io::WriteJsonFile(path, json); !s.ok()) throw std::runtime_error(std::string(s.message()));
  std::printf("results: %s\n", path.c_str());
}

int BenchmarkMain(int argc, char** argv, const char* usage, int (*run)()) {
  absl::SetProgramUsageMessage(usage);
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = flags::CheckFlagRanges(); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace psg::bench
