#ifndef PSG_DATA_NORMALIZATION_H_
#define PSG_DATA_NORMALIZATION_H_

// Per-channel normalization constants on the 0..1 pixel scale:
// out = (pixel / 255 - mean[c]) / stddev[c].
//
//   CifarAugmenter::Options options;
//   options.normalization = ImageNetNormalization();

#include <vector>

namespace psg::data {

struct Normalization {
  std::vector<float> mean;    // one per channel
  std::vector<float> stddev;  // one per channel, > 0
};

// The usual CIFAR-10 training-set statistics.
inline Normalization Cifar10Normalization() {
  return {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
}

// CIFAR-100 as the released PSG code normalizes it (PSG-pytorch utils.py,
// get_cifar100_dataloaders): mean (129.3, 124.1, 112.4) / 255 and std
// (68.2, 65.4, 70.4) / 255, the figures common CIFAR-100 code copies.
inline Normalization Cifar100Normalization() {
  return {{129.3f / 255, 124.1f / 255, 112.4f / 255}, {68.2f / 255, 65.4f / 255, 70.4f / 255}};
}

// The usual ImageNet (ILSVRC-2012) statistics, as in torchvision.
inline Normalization ImageNetNormalization() {
  return {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
}

}  // namespace psg::data

#endif  // PSG_DATA_NORMALIZATION_H_
