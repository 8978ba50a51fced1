#include "cli/psg_bits_flag.h"

#include "absl/flags/flag.h"
#include "compression/released_defaults.h"
#include "flags/ranges.h"

ABSL_FLAG(int, psg_bits, psg::compression::kReleasedWeightBits, "the bit-width of the grid PSGD trains towards, 2..8");
PSG_FLAG_RANGE(psg_bits, psg::flags::Between(2, 8));
