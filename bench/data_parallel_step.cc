// Data-parallel training step time and the share of it the gradient
// reduction costs: a step is forward, softmax cross-entropy, backward with
// the gradients summed over the ranks in buckets while backward runs
// (dist/gradient_reducer.h), and an SGD update, on a fixed random batch. The
// global batch stays the same whatever the number of ranks (each rank gets
// global / ranks images), so step times compare directly:
//
//   bazel-bin/bench/data_parallel_step --threads=2                          # 1 rank x 2 threads
//   mpirun -np 2 bazel-bin/bench/data_parallel_step --threads=1 --distributed=mpi
//
// Reports per model: the median step time, the bytes each rank reduces per
// step, the communication thread's time per step (pack, allreduce, unpack),
// the part of it backward did not hide (the main thread waiting in
// EndBackward), and the reduction alone (no backward running) with the bus
// bandwidth it reaches (2 (N-1) / N x bytes / time, a ring allreduce's traffic).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/throughput_setup.h"
#include "dist/data_parallel.h"
#include "dist/mpi_data_parallel.h"
#include "engine/loss.h"
#include "engine/optimizer.h"
#include "flags/ranges.h"
#include "io/json_writer.h"
#include "models/zoo.h"

ABSL_FLAG(std::string, models, "resnet20,resnet18", "comma-separated zoo models");
ABSL_FLAG(int64_t, global_batch, 0, "images per step over all ranks (0: 128, ResNet-18 32)");
PSG_FLAG_RANGE(global_batch, psg::flags::Between(0, 1 << 20));
ABSL_FLAG(int, threads, 0, "OpenMP threads per rank (0: all cores)");
PSG_FLAG_RANGE(threads, psg::flags::Between(0, 4096));
ABSL_FLAG(psg::dist::DistributedMode, distributed, psg::dist::DistributedMode::kNone,
          "none (one process) or mpi (under mpirun)");
ABSL_FLAG(double, bucket_mb, 4, "gradient bucket size (MiB)");
PSG_FLAG_RANGE(bucket_mb, psg::flags::Between(1.0 / 1024, 1024));  // 1 KiB to 1 GiB
ABSL_FLAG(int, warmup, 3, "untimed steps before timing");
PSG_FLAG_RANGE(warmup, psg::flags::AtLeast(0));
ABSL_FLAG(int, steps, 10, "timed steps; the median is reported");
PSG_FLAG_RANGE(steps, psg::flags::AtLeast(1));
ABSL_FLAG(std::string, output, "", "JSON result file (optional; written by rank 0)");

namespace psg::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Measured {
  double step_ms = 0;
  double communication_ms = 0;  // communication thread, per step
  double wait_ms = 0;           // main thread in EndBackward, per step
  double alone_ms = 0;          // the reduction with nothing else running
  int64_t bytes = 0;
  int buckets = 0;
};

Measured Measure(const ThroughputCase& c, dist::MpiDataParallel* dp, int warmup, int steps) {
  const int ranks = dp != nullptr ? dp->size() : 1;
  ThroughputCase mine = c;
  mine.batch = c.batch / ranks;
  auto net = models::BuildModel({c.model, c.classes});
  models::InitializeParameters(*net, 1);
  engine::ParameterList params;
  net->CollectParameters(&params);
  engine::Sgd sgd(engine::TrainableOnly(params), {.momentum = 0.9f, .weight_decay = 1e-4f});
  if (dp != nullptr) dp->Attach(params);
  const engine::Tensor x = RandomInput(mine, 1 + (dp != nullptr ? dp->rank() : 0));
  std::vector<int32_t> labels(mine.batch);
  for (int64_t i = 0; i < mine.batch; ++i) labels[i] = static_cast<int32_t>(i % c.classes);
  engine::SoftmaxCrossEntropy loss({});
  const auto step = [&] {
    loss.Forward(net->Forward(x, engine::Mode::kTrain), labels);
    if (dp != nullptr) dp->BeginBackward(1.0 / ranks);
    net->Backward(loss.Backward());
    if (dp != nullptr) dp->EndBackward();
    sgd.Step(1e-4f);
  };
  for (int i = 0; i < warmup; ++i) step();
  const dist::ReductionStats before = dp != nullptr ? dp->reduction_stats() : dist::ReductionStats();
  std::vector<double> seconds;
  for (int i = 0; i < steps; ++i) {
    const Clock::time_point start = Clock::now();
    step();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  Measured m;
  m.step_ms = 1e3 * Median(seconds);
  if (dp == nullptr) return m;
  const dist::ReductionStats after = dp->reduction_stats();
  m.communication_ms = 1e3 * (after.allreduce_seconds - before.allreduce_seconds) / steps;
  m.wait_ms = 1e3 * (after.wait_seconds - before.wait_seconds) / steps;
  m.bytes = after.bytes_per_step;
  m.buckets = after.buckets;
  std::vector<double> alone;  // every bucket at once, no backward to hide behind
  for (int i = 0; i < steps; ++i) {
    const Clock::time_point start = Clock::now();
    dp->BeginBackward(1.0 / ranks);
    dp->EndBackward();
    alone.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  m.alone_ms = 1e3 * Median(alone);
  return m;
}

int Main() {
  const int threads = SetThreads(absl::GetFlag(FLAGS_threads));
  const dist::DistributedMode mode = absl::GetFlag(FLAGS_distributed);
  const std::vector<ThroughputCase> cases =
      CasesFromFlag(absl::GetFlag(FLAGS_models), absl::GetFlag(FLAGS_global_batch));
  std::unique_ptr<dist::MpiDataParallel> dp;
  if (mode == dist::DistributedMode::kMpi) {
    auto made = dist::MpiDataParallel::Init(
        {.bucket_bytes = static_cast<int64_t>(absl::GetFlag(FLAGS_bucket_mb) * (1 << 20))});
    if (!made.ok()) throw std::runtime_error(std::string(made.status().message()));
    dp = *std::move(made);
  }
  const int ranks = dp != nullptr ? dp->size() : 1;
  const bool print = dp == nullptr || dp->rank() == 0;
  if (print) {
    std::printf("| model | ranks x threads | batch per rank | step ms | img/s | MB reduced per "
                "step | buckets | communication ms per step | exposed wait ms | wait share of "
                "step | reduction alone ms | bus GB/s |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  }
  io::Json results = io::Json::array();
  for (const ThroughputCase& c : cases) {
    if (c.batch % ranks != 0) {
      throw std::invalid_argument(
          absl::StrCat("global batch ", c.batch, " does not split over ", ranks, " ranks"));
    }
    const Measured m =
        Measure(c, dp.get(), absl::GetFlag(FLAGS_warmup), absl::GetFlag(FLAGS_steps));
    const double bus =
        m.alone_ms > 0 ? 2.0 * (ranks - 1) / ranks * m.bytes / (m.alone_ms * 1e-3) / 1e9 : 0;
    if (print) {
      std::printf("| %s | %d x %d | %lld | %.1f | %.1f | %.2f | %d | %.1f | %.1f | %.1f %% | %.1f | %.2f |\n",
                  c.model.c_str(), ranks, threads, static_cast<long long>(c.batch / ranks),
                  m.step_ms, c.batch / (m.step_ms * 1e-3), m.bytes / 1e6, m.buckets,
                  m.communication_ms, m.wait_ms, 100 * m.wait_ms / m.step_ms, m.alone_ms, bus);
    }
    results.push_back({{"model", c.model},
                       {"ranks", ranks},
                       {"threads", threads},
                       {"global_batch", c.batch},
                       {"step_ms", m.step_ms},
                       {"bytes_reduced_per_step", m.bytes},
                       {"buckets", m.buckets},
                       {"communication_ms", m.communication_ms},
                       {"wait_ms", m.wait_ms},
                       {"reduction_alone_ms", m.alone_ms},
                       {"bus_gb_per_s", bus}});
  }
  if (print) {
    std::printf("(median of %d steps after %d warm-up steps)\n", absl::GetFlag(FLAGS_steps),
                absl::GetFlag(FLAGS_warmup));
    WriteResultJson(absl::GetFlag(FLAGS_output), "data_parallel_step", {{"results", results}});
  }
  return 0;
}

}  // namespace
}  // namespace psg::bench

int main(int argc, char** argv) {
  return psg::bench::BenchmarkMain(
      argc, argv, "Data-parallel training step time and gradient reduction share.",
      psg::bench::Main);
}
