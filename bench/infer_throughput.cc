// Inference throughput of the zoo's models, timed interleaved in one run on a
// fixed random NCHW batch (each includes converting it to its own layout):
//   fp32        the training engine's network in evaluation mode;
//   fp32_fused  the deployment fp32 network (quant/int8_network.h): batch
//               norms folded, ReLU and residual adds fused into convolutions;
//   int8        the int8 network: the same fusions, s8 weights per channel,
//               u8/s8 activations calibrated on the same random batch;
//   bf16        the training engine's network built in bf16 (engine/precision.h),
//               evaluation mode, the same weights;
//   bf16_fused  the deployment network in bf16 (quant/int8_network.h).
//
//   bazel run -c opt //bench:infer_throughput -- --models=resnet20,resnet32,resnet18
//       --precisions=fp32,fp32_fused,int8,bf16,bf16_fused --threads=2
//       --output=/tmp/infer_throughput.json
//
// --profile prints (and writes) where one pass of each precision goes: oneDNN
// time by primitive kind, and the time outside primitives (engine/profiler.h).
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/throughput_setup.h"
#include "engine/context.h"
#include "engine/graph.h"
#include "engine/profiler.h"
#include "flags/ranges.h"
#include "models/zoo.h"
#include "quant/bn_fold.h"
#include "quant/int8_network.h"
#include "report/timing.h"

ABSL_FLAG(std::string, models, "resnet20,resnet32,resnet18", "comma-separated zoo models");
ABSL_FLAG(int64_t, batch, 0, "batch size (0: 128, ResNet-18 32)");
PSG_FLAG_RANGE(batch, psg::flags::Between(0, 1 << 20));
ABSL_FLAG(int, threads, 0, "OpenMP threads (0: all cores)");
PSG_FLAG_RANGE(threads, psg::flags::Between(0, 4096));
ABSL_FLAG(std::string, precisions, "fp32,fp32_fused,int8",
          "comma-separated: fp32, fp32_fused, int8, bf16, bf16_fused (bf16 needs AVX512-BF16)");
ABSL_FLAG(int, warmup, 3, "untimed passes per precision before timing");
PSG_FLAG_RANGE(warmup, psg::flags::AtLeast(0));
ABSL_FLAG(int, passes, 20, "timed passes per precision; the median is reported");
PSG_FLAG_RANGE(passes, psg::flags::AtLeast(1));
ABSL_FLAG(bool, profile, false, "print (and write) a profile of one pass per precision");
ABSL_FLAG(std::string, output, "", "JSON result file (optional)");

namespace psg::bench {
namespace {

int Main() {
  const int threads = SetThreads(absl::GetFlag(FLAGS_threads));
  const std::vector<ThroughputCase> cases =
      CasesFromFlag(absl::GetFlag(FLAGS_models), absl::GetFlag(FLAGS_batch));
  const std::vector<std::string> precisions =
      absl::StrSplit(absl::GetFlag(FLAGS_precisions), ',', absl::SkipWhitespace());
  const int passes = absl::GetFlag(FLAGS_passes);
  if (passes < 1 || absl::GetFlag(FLAGS_warmup) < 0) {
    throw std::invalid_argument("--passes must be >= 1 and --warmup >= 0");
  }
  io::Json results = io::Json::array(), profiles = io::Json::object();
  std::printf("| model | batch | precision | pass ms | img/s |\n|---|---|---|---|---|\n");
  for (const ThroughputCase& c : cases) {
    std::unique_ptr<engine::Sequential> net = models::BuildModel({c.model, c.classes});
    models::InitializeParameters(*net, 1);
    const engine::Tensor x = RandomInput(c, 1);
    // Train-mode passes give the batch norms non-trivial running statistics.
    for (int i = 0; i < 3; ++i) net->Forward(x, engine::Mode::kTrain);
    engine::Graph graph;
    net->Export(&graph, graph.AddInput("input"));
    const engine::Graph folded = quant::FoldBatchNorm(graph);
    std::vector<std::unique_ptr<quant::FusedFloatNetwork>> fused;
    std::unique_ptr<quant::Int8Network> int8;
    std::unique_ptr<engine::Sequential> bf16;
    std::vector<std::function<void()>> calls;
    // One evaluation-mode pass of an engine network.
    const auto eval_pass = [&x](engine::Sequential* model) {
      return [&x, model] {
        model->Forward(x, engine::Mode::kEval);
        engine::Stream().wait();
      };
    };
    for (const std::string& precision : precisions) {
      if (precision == "fp32") {
        calls.push_back(eval_pass(net.get()));
      } else if (precision == "fp32_fused" || precision == "bf16_fused") {
        fused.push_back(std::make_unique<quant::FusedFloatNetwork>(
            folded, c.sample,
            precision == "fp32_fused" ? engine::Precision::kFp32 : engine::Precision::kBf16));
        calls.push_back([&x, network = fused.back().get()] { network->Forward(x); });
      } else if (precision == "int8") {
        quant::Calibrator calibrator(folded);
        calibrator.Observe(x);
        int8 = std::make_unique<quant::Int8Network>(folded, calibrator.ranges(), c.sample);
        calls.push_back([&] { int8->Forward(x); });
      } else if (precision == "bf16") {
        bf16 = models::BuildModel(
            {.name = c.model, .num_classes = c.classes, .precision = engine::Precision::kBf16});
        engine::ParameterList from, to;  // weights and BN statistics
        net->CollectParameters(&from);
        bf16->CollectParameters(&to);
        engine::CopyValues(from, to);
        calls.push_back(eval_pass(bf16.get()));
      } else {
        throw std::invalid_argument("unknown precision '" + precision +
                                    "' (fp32, fp32_fused, int8, bf16 or bf16_fused)");
      }
    }
    const std::vector<double> seconds =
        report::InterleavedMedianSeconds(passes, calls, absl::GetFlag(FLAGS_warmup));
    for (size_t i = 0; i < precisions.size(); ++i) {
      std::printf("| %s | %lld | %s | %.2f | %.1f |\n", c.model.c_str(),
                  static_cast<long long>(c.batch), precisions[i].c_str(), 1e3 * seconds[i],
                  c.batch / seconds[i]);
      results.push_back({{"model", c.model},
                         {"batch", c.batch},
                         {"precision", precisions[i]},
                         {"pass_ms", 1e3 * seconds[i]},
                         {"images_per_second", c.batch / seconds[i]}});
    }
    for (size_t i = 1; i < precisions.size(); ++i) {
      std::printf("| %s | | %s / %s speed | %.3fx | |\n", c.model.c_str(), precisions[i].c_str(),
                  precisions[0].c_str(), seconds[0] / seconds[i]);
    }
    if (absl::GetFlag(FLAGS_profile)) {
      for (size_t i = 0; i < precisions.size(); ++i) {
        engine::Profiler profiler;
        {
          engine::Profiler::Recording recording(&profiler);
          calls[i]();
        }
        std::printf("\nprofile of one %s pass, %s, batch %lld, %d threads:\n%s\n",
                    precisions[i].c_str(), c.model.c_str(), static_cast<long long>(c.batch),
                    threads, profiler.Table().c_str());
        profiles[absl::StrCat(c.model, " ", precisions[i])] = profiler.Json();
      }
    }
  }
  std::printf("(%d threads, median of %d interleaved passes after %d warm-up passes)\n", threads,
              passes, absl::GetFlag(FLAGS_warmup));
  WriteResultJson(absl::GetFlag(FLAGS_output), "infer_throughput",
                  {{"passes", passes}, {"results", results}, {"profiles", profiles}});
  return 0;
}

}  // namespace
}  // namespace psg::bench

int main(int argc, char** argv) {
  return psg::bench::BenchmarkMain(argc, argv, "Inference img/s of zoo models, fp32, int8 and bf16.", psg::bench::Main);
}
