#ifndef PSG_DATA_LOADER_TIMING_H_
#define PSG_DATA_LOADER_TIMING_H_

// The loop of the loader benchmarks: batches from BatchLoader::Next() for as
// long as Google Benchmark runs, with their images per second as the
// "img_per_s" counter (an error skips the case with its message).
//
//   void BM_Batches(benchmark::State& state) {
//     TimeLoaderBatches(state, dataset, options);
//   }

#include "benchmark/benchmark.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace psg::data {

void TimeLoaderBatches(benchmark::State& state, const Dataset& dataset,
                       const LoaderOptions& options);

}  // namespace psg::data

#endif  // PSG_DATA_LOADER_TIMING_H_
