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
//
// A path that is no regular file (a directory, a FIFO, a device) is an error
// naming what it is, reported without blocking. The whole file is checked
// against its header before the images are kept (fuzzed: //fuzz:idx_fuzzer).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/image_set.h"

namespace psg::data {

// images_path: idx3-ubyte (N x rows x cols unsigned bytes); labels_path:
// idx1-ubyte (N unsigned bytes, each < num_classes). Returns 1-channel images.
absl::StatusOr<ImageSet> ReadIdx(const std::string& images_path,
                                 const std::string& labels_path,
                                 int num_classes = 10);

// The same for files already in memory (each plain or gzip); `images_name`
// and `labels_name` name them in errors.
absl::StatusOr<ImageSet> ParseIdx(absl::string_view images_file, const std::string& images_name,
                                  absl::string_view labels_file, const std::string& labels_name,
                                  int num_classes = 10);

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from dir.
absl::StatusOr<ImageSet> ReadMnist(const std::string& dir, Split split);

}  // namespace psg::data

#endif  // PSG_DATA_IDX_H_
