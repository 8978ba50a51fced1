#ifndef PSG_DATA_IMAGE_SET_H_
#define PSG_DATA_IMAGE_SET_H_

// An in-memory labelled image collection (CIFAR, MNIST, ...), as the readers
// in cifar.h and idx.h return it.
//
//   absl::StatusOr<psg::data::ImageSet> train =
//       psg::data::ReadCifar10(dir, psg::data::Split::kTrain);
//   const uint8_t* image_7 = train->image(7);  // channels*height*width bytes
//   int32_t label_7 = train->labels[7];

#include <cstdint>
#include <vector>

namespace psg::data {

enum class Split { kTrain, kTest };

struct ImageSet {
  int64_t count = 0;
  int channels = 0;
  int height = 0;
  int width = 0;
  int num_classes = 0;
  // count * channels * height * width bytes: image after image, each one
  // channel plane after another (CHW), rows top to bottom.
  std::vector<uint8_t> pixels;
  std::vector<int32_t> labels;  // count entries in [0, num_classes)

  int64_t image_size() const {
    return static_cast<int64_t>(channels) * height * width;
  }
  const uint8_t* image(int64_t i) const {
    return pixels.data() + i * image_size();
  }
};

}  // namespace psg::data

#endif  // PSG_DATA_IMAGE_SET_H_
