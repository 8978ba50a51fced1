// Shared pieces of the throughput benchmarks (train_throughput,
// infer_throughput): the model list with each model's default batch, thread
// setup, a random input batch, JSON output and main().
//
//   for (const ThroughputCase& c : CasesFromFlag("resnet20,resnet18", 0)) {
//     engine::Tensor x = RandomInput(c, /*seed=*/1);   // {c.batch, C, H, W}
//     ...
//   }
//   WriteResultJson(path, "train_throughput", {{"results", results}});
#ifndef PSG_BENCH_THROUGHPUT_SETUP_H_
#define PSG_BENCH_THROUGHPUT_SETUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "io/json_writer.h"

namespace psg::bench {

struct ThroughputCase {
  std::string model;  // a models/zoo.h name
  int64_t batch = 0;
  int64_t classes = 0;
  engine::Dims sample;  // {C, H, W}
};

// One case per comma-separated model name; batch 0 picks the batch
// sizes (128, ResNet-18 at 224x224: 32). Throws std::invalid_argument for an
// unknown model or a negative batch.
std::vector<ThroughputCase> CasesFromFlag(const std::string& models, int64_t batch);

// Sets OpenMP's thread count (0: leave all cores) and flush-to-zero on every
// thread (engine/denormals.h); returns the count used.
int SetThreads(int threads);

// A reproducible uniform [-1, 1) batch {batch, C, H, W}, plain NCHW.
engine::Tensor RandomInput(const ThroughputCase& c, uint32_t seed);

// Unless `path` is empty, writes {"benchmark": <benchmark>, "machine": {...},
// <members>} there (atomically) and prints where; throws std::runtime_error
// naming the path and the system error when it cannot be written.
void WriteResultJson(const std::string& path, const std::string& benchmark, const io::Json& members);

// main() of a throughput benchmark: parses the flags and returns run(),
// turning an escaped exception into "error: ..." and exit code 1.
int BenchmarkMain(int argc, char** argv, const char* usage, int (*run)());

}  // namespace psg::bench

#endif  // PSG_BENCH_THROUGHPUT_SETUP_H_
