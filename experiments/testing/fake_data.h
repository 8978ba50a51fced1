// Data sets in the official file layouts with random pixels, for tests that
// run the commands end to end.
//
//   const std::string dir = WriteFakeCifar10(tmp + "/data");      // --data_dir=dir
//   const std::string mnist = WriteFakeFashionMnist(tmp + "/mnist", 64, 32);
//   const std::string inet = ImageNetFromSample(ImageNetSampleDir(), tmp + "/imagenet");
#ifndef PSG_EXPERIMENTS_TESTING_FAKE_DATA_H_
#define PSG_EXPERIMENTS_TESTING_FAKE_DATA_H_

#include <cstdint>
#include <string>

namespace psg::experiments::testing {

// <root>/cifar-10-batches-bin: the six files, 10,000 records each; returns root.
std::string WriteFakeCifar10(const std::string& root);

// <root>/{train,t10k}-{images-idx3,labels-idx1}-ubyte with `train` and
// `test` 28x28 images; returns root.
std::string WriteFakeFashionMnist(const std::string& root, int64_t train, int64_t test);

// <root>/train and <root>/val as links to one ImageNet-style folder
// (<wnid>/*.JPEG, e.g. the 100-image sample); returns root.
std::string ImageNetFromSample(const std::string& sample, const std::string& root);

// The 100-image ImageNet sample beside the workspace
// (<repository>/../shared/data/imagenet-sample, found from a test through the
// runfiles link of experiments/BUILD, which the test must have as data), or
// $PSG_IMAGENET_SAMPLE; empty when neither exists.
std::string ImageNetSampleDir();

}  // namespace psg::experiments::testing

#endif  // PSG_EXPERIMENTS_TESTING_FAKE_DATA_H_
