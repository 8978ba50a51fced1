#include "data/loader_timing.h"

#include <cstdint>
#include <memory>

namespace psg::data {

void TimeLoaderBatches(benchmark::State& state, const Dataset& dataset,
                       const LoaderOptions& options) {
  absl::StatusOr<std::unique_ptr<BatchLoader>> loader = BatchLoader::Create(dataset, options);
  if (!loader.ok()) {
    state.SkipWithError(loader.status().ToString().c_str());
    return;
  }
  int64_t images = 0;
  for (auto _ : state) {
    absl::StatusOr<const Batch*> batch = (*loader)->Next();
    if (!batch.ok()) {
      state.SkipWithError(batch.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize((*batch)->images.data());
    images += (*batch)->n;
  }
  state.counters["img_per_s"] =
      benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
}

}  // namespace psg::data
