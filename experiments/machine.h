// The machine a result was measured on, for the result files:
// {"cpu": "AMD EPYC ...", "threads": 2, "onednn": "2.6.3"}.
#ifndef PSG_EXPERIMENTS_MACHINE_H_
#define PSG_EXPERIMENTS_MACHINE_H_

#include "io/json_writer.h"

namespace psg::experiments {

// The CPU model (/proc/cpuinfo), OpenMP's thread count and oneDNN's version.
io::Json MachineJson();

}  // namespace psg::experiments

#endif  // PSG_EXPERIMENTS_MACHINE_H_
