// --psg_bits: the bit-width of the grid PSGD trains towards, for train
// (cli/optimizer_flags) and for the paper tables' PSGD stages, defined once
// for both.
//
//   const int bits = absl::GetFlag(FLAGS_psg_bits);
#ifndef PSG_CLI_PSG_BITS_FLAG_H_
#define PSG_CLI_PSG_BITS_FLAG_H_

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(int, psg_bits);

#endif  // PSG_CLI_PSG_BITS_FLAG_H_
