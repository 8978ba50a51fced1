#ifndef PSG_DATA_IDX_H_
#define PSG_DATA_IDX_H_

// Reader for the IDX files of MNIST and Fashion-MNIST, plain or gzip
// (detected by the file's magic bytes, not its name).
//
//   absl::StatusOr<ImageSet> train = ReadIdx(
//       "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
//   // train->count == 60000, channels == 1, 28x28, labels in [0, 10).
//
//   // Or a directory with the standard file names, .gz or not:
//   absl::StatusOr<ImageSet> test = ReadMnist(dir, Split::kTest);

#include <string>

#include "absl/status/statusor.h"
#include "data/image_set.h"

namespace psg::data {

// images_path: idx3-ubyte (N x rows x cols unsigned bytes); labels_path:
// idx1-ubyte (N unsigned bytes, each < num_classes). Returns 1-channel images.
absl::StatusOr<ImageSet> ReadIdx(const std::string& images_path,
                                 const std::string& labels_path,
                                 int num_classes = 10);

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from dir.
absl::StatusOr<ImageSet> ReadMnist(const std::string& dir, Split split);

}  // namespace psg::data

#endif  // PSG_DATA_IDX_H_
