#include "cli/seed_flag.h"

#include "absl/flags/flag.h"
#include "flags/ranges.h"

ABSL_FLAG(uint64_t, seed, 1,
          "seed of initialization, shuffling and augmentation (the paper tables: of every training stage)");
PSG_FLAG_RANGE(seed, psg::flags::AtLeast(0));
