// Generated data sets in the official file layouts, for end-to-end tests of
// the commands: random pixels and labels (nothing to learn, everything to
// read and train on).
//
//   const std::string dir = WriteFakeCifar10(tmp + "/data");        // --data_dir=dir
#ifndef PSG_EXPERIMENTS_TESTING_FAKE_DATA_H_
#define PSG_EXPERIMENTS_TESTING_FAKE_DATA_H_

#include <string>

namespace psg::experiments {

// <root>/cifar-10-batches-bin: the six files of 10,000 records each (label
// byte + 3072 pixel bytes). Returns root.
std::string WriteFakeCifar10(const std::string& root);

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_TESTING_FAKE_DATA_H_
