#ifndef PSG_DATA_CIFAR_H_
#define PSG_DATA_CIFAR_H_

// Readers for the official CIFAR binary files ("binary version" downloads).
//
//   // dir holds data_batch_1.bin ... data_batch_5.bin and test_batch.bin,
//   // e.g. the cifar-10-batches-bin/ directory tools/get_cifar10.sh prints.
//   absl::StatusOr<ImageSet> train = ReadCifar10(dir, Split::kTrain);
//   if (!train.ok()) return train.status();  // names the file and the problem
//   // train->count == 50000, 3x32x32 CHW images, labels in [0, 10).
//
//   // dir holds train.bin and test.bin (cifar-100-binary/).
//   absl::StatusOr<ImageSet> test =
//       ReadCifar100(dir, Split::kTest, Cifar100Labels::kCoarse);
//
// Every file must hold exactly the official number of records (10,000 per
// CIFAR-10 file; 50,000 / 10,000 for CIFAR-100 train / test) and every label
// must be in range, so a truncated download or a wrong file fails loudly. A
// path that is no regular file (a directory, FIFO, device) is an error
// naming what it is, reported without blocking. Fuzzed: //fuzz:cifar_fuzzer.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/image_set.h"

namespace psg::data {

// CIFAR-10: records of 1 label byte + 3072 pixel bytes (R, G, B planes of
// 32x32, row-major). Train concatenates data_batch_1..5.bin in order.
absl::StatusOr<ImageSet> ReadCifar10(const std::string& dir, Split split);

// CIFAR-100 records carry a coarse (20 superclasses) and a fine (100 classes)
// label byte before the 3072 pixel bytes.
enum class Cifar100Labels { kFine, kCoarse };

absl::StatusOr<ImageSet> ReadCifar100(
    const std::string& dir, Split split,
    Cifar100Labels which = Cifar100Labels::kFine);

// The records of one file's contents already in memory (`name` names it in
// errors): CIFAR-10 records, or CIFAR-100 ones with the fine or coarse
// label; exactly `records` of them.
enum class CifarFormat { kCifar10, kCifar100Fine, kCifar100Coarse };
absl::StatusOr<ImageSet> ParseCifar(absl::string_view file, CifarFormat format,
                                    int64_t records, const std::string& name);

}  // namespace psg::data

#endif  // PSG_DATA_CIFAR_H_
