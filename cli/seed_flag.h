// --seed: the seed of a training run (train) and of every stage of a paper
// table, defined once for both.
//
//   models::InitializeParameters(*model, absl::GetFlag(FLAGS_seed));
#ifndef PSG_CLI_SEED_FLAG_H_
#define PSG_CLI_SEED_FLAG_H_

#include <cstdint>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(uint64_t, seed);

#endif  // PSG_CLI_SEED_FLAG_H_
