#ifndef PSG_DATA_DATASET_H_
#define PSG_DATA_DATASET_H_

// What the batch loader (loader.h) needs from a dataset: its size, labels,
// and a way to write sample i, augmented, as float CHW into a batch slot.
//
//   class MyDataset : public Dataset {
//     int64_t size() const override;
//     SampleShape sample_shape() const override;   // e.g. {3, 32, 32}
//     int32_t label(int64_t i) const override;
//     absl::Status WriteSample(int64_t i, engine::Rng& rng, float* dst) const override;
//   };
//
// WriteSample is called concurrently from the loader's worker threads, so it
// must be safe to call from several threads at once; its randomness must come
// only from rng (the loader derives rng from seed, epoch and i) so that
// batches do not depend on the number of workers.

#include <cstdint>

#include "absl/status/status.h"
#include "engine/rng.h"

namespace psg::data {

struct SampleShape {
  int channels = 0;
  int height = 0;
  int width = 0;
  int64_t size() const { return static_cast<int64_t>(channels) * height * width; }
};

class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual int64_t size() const = 0;
  virtual SampleShape sample_shape() const = 0;
  virtual int32_t label(int64_t i) const = 0;
  // Writes sample_shape().size() floats (CHW) for sample i to dst.
  virtual absl::Status WriteSample(int64_t i, engine::Rng& rng, float* dst) const = 0;
};

}  // namespace psg::data

#endif  // PSG_DATA_DATASET_H_
