// Throughput of the CIFAR training input pipeline: augmented batches of 128
// (pad-crop-flip + normalization) from an in-memory 50,000-image set, as the
// training loop sees it through BatchLoader::Next(), with 1 and 2 workers;
// and the augmentation of one image alone.
//
//   bazel run -c opt //data:loader_benchmark

#include <cstdint>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "data/augment.h"
#include "data/image_set.h"
#include "data/image_set_dataset.h"
#include "data/loader.h"
#include "data/loader_timing.h"
#include "engine/rng.h"

namespace psg::data {
namespace {

// Random pixels in the CIFAR-10 train layout; built once.
const ImageSet& FakeCifarTrain() {
  static const ImageSet* const set = [] {
    auto* s = new ImageSet;
    s->count = 50000;
    s->channels = 3;
    s->height = 32;
    s->width = 32;
    s->num_classes = 10;
    s->pixels.resize(s->count * s->image_size());
    engine::Rng rng(1);
    for (size_t i = 0; i < s->pixels.size(); i += 8) {
      const uint64_t v = rng.Next();
      for (size_t k = 0; k < 8 && i + k < s->pixels.size(); ++k) {
        s->pixels[i + k] = static_cast<uint8_t>(v >> (8 * k));
      }
    }
    for (int64_t i = 0; i < s->count; ++i) {
      s->labels.push_back(static_cast<int32_t>(rng.UniformInt(10)));
    }
    return s;
  }();
  return *set;
}

void BM_AugmentedCifarBatches(benchmark::State& state) {
  absl::StatusOr<ImageSetDataset> dataset = ImageSetDataset::Create(
      FakeCifarTrain(), ImageSetDataset::Mode::kTrain);
  if (!dataset.ok()) {
    state.SkipWithError(dataset.status().ToString().c_str());
    return;
  }
  LoaderOptions options;
  options.batch_size = 128;
  options.drop_last = true;
  options.seed = 1;
  options.num_workers = static_cast<int>(state.range(0));
  TimeLoaderBatches(state, *dataset, options);
}
// One image through CifarAugmenter::Train on the calling thread: the per-image
// cost that bounds each worker.
void BM_CifarAugmentTrain(benchmark::State& state) {
  const ImageSet& images = FakeCifarTrain();
  absl::StatusOr<CifarAugmenter> augmenter = CifarAugmenter::Create(3, 32, 32);
  if (!augmenter.ok()) {
    state.SkipWithError(augmenter.status().ToString().c_str());
    return;
  }
  std::vector<float> out(128 * images.image_size());
  engine::Rng rng(1);
  int64_t i = 0;
  for (auto _ : state) {
    augmenter->Train(images.image(i % images.count), rng,
                     out.data() + (i % 128) * images.image_size());
    benchmark::ClobberMemory();
    ++i;
  }
  state.counters["img_per_s"] =
      benchmark::Counter(static_cast<double>(i), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CifarAugmentTrain);

BENCHMARK(BM_AugmentedCifarBatches)
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace psg::data
