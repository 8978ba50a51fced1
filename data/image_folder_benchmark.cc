// Throughput of the ImageNet input pipeline on a folder of real JPEGs (the
// 100-image sample in ../shared/data/imagenet-sample by default): samples per
// second of one thread (decode + crop + resize + flip + normalize, i.e. one
// loader worker's ceiling), and batches of 32 through BatchLoader::Next() with
// 1 and 2 workers; each in training mode (RandomResizedCrop(224) + flip) and
// evaluation mode (resize 256, center crop 224), with and without DCT-domain
// downscaling in the decoder.
//
//   bazel run -c opt //data:image_folder_benchmark
//   bazel run -c opt //data:image_folder_benchmark -- --dir=/data/imagenet/train
//
// The folder: --dir, else $PSG_IMAGENET_SAMPLE, else
// <workspace>/../shared/data/imagenet-sample.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "data/image_folder.h"
#include "data/loader.h"
#include "data/loader_timing.h"
#include "engine/rng.h"

namespace psg::data {
namespace {

namespace fs = std::filesystem;

std::string& FolderFlag() {
  static std::string* const dir = new std::string;
  return *dir;
}

// The sample beside the workspace: `bazel run` names the workspace; under
// `bazel test` data/BUILD's runfiles symlink leads back into it.
std::string SampleDir() {
  if (!FolderFlag().empty()) return FolderFlag();
  if (const char* dir = std::getenv("PSG_IMAGENET_SAMPLE")) return dir;
  fs::path workspace;
  if (const char* w = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    workspace = w;
  } else if (const char* runfiles = std::getenv("TEST_SRCDIR")) {
    std::error_code error;
    workspace = fs::canonical(fs::path(runfiles) / "psg_toolkit/data/BUILD", error)
                    .parent_path()
                    .parent_path();
  } else {
    workspace = fs::current_path();
  }
  return (workspace.parent_path() / "shared/data/imagenet-sample").string();
}

// The folder opened in `mode`, or an error message.
absl::StatusOr<ImageFolderDataset> Open(ImageFolderDataset::Mode mode, bool dct_scaling) {
  ImageFolderDataset::Options options;
  options.mode = mode;
  options.dct_scaling = dct_scaling;
  return ImageFolderDataset::Open(SampleDir(), options);
}

ImageFolderDataset::Mode ModeArg(const benchmark::State& state) {
  return state.range(0) == 0 ? ImageFolderDataset::Mode::kTrain : ImageFolderDataset::Mode::kEval;
}

// One thread writing samples in folder order, round and round.
void BM_ImageFolderSample(benchmark::State& state) {
  absl::StatusOr<ImageFolderDataset> dataset = Open(ModeArg(state), state.range(1) != 0);
  if (!dataset.ok()) {
    state.SkipWithError(dataset.status().ToString().c_str());
    return;
  }
  std::vector<float> sample(dataset->sample_shape().size());
  int64_t i = 0;
  for (auto _ : state) {
    engine::Rng rng = engine::Rng::ForStream(1, 0, i);
    if (absl::Status s = dataset->WriteSample(i % dataset->size(), rng, sample.data()); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(sample.data());
    ++i;
  }
  state.counters["img_per_s"] = benchmark::Counter(static_cast<double>(i), benchmark::Counter::kIsRate);
}

// Shuffled batches of 32 through the loader, epoch after epoch.
void BM_ImageFolderBatches(benchmark::State& state) {
  absl::StatusOr<ImageFolderDataset> dataset = Open(ModeArg(state), state.range(1) != 0);
  if (!dataset.ok()) {
    state.SkipWithError(dataset.status().ToString().c_str());
    return;
  }
  LoaderOptions options;
  options.batch_size = 32;
  options.seed = 1;
  options.num_workers = static_cast<int>(state.range(2));
  TimeLoaderBatches(state, *dataset, options);
}

BENCHMARK(BM_ImageFolderSample)
    ->ArgNames({"eval", "dct"})
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ImageFolderBatches)
    ->ArgNames({"eval", "dct", "workers"})
    ->ArgsProduct({{0, 1}, {0, 1}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace psg::data

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--dir=", 6) == 0) {
      psg::data::FolderFlag() = argv[i] + 6;
    } else {
      std::fprintf(stderr, "unknown argument '%s' (expected --dir=<image folder>)\n", argv[i]);
      return 2;
    }
  }
  std::printf("image folder: %s\n", psg::data::SampleDir().c_str());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
