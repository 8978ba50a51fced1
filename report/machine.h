// The machine a result was measured on, for the result files:
// {"cpu": "AMD EPYC ...", "threads": 2, "onednn": "2.6.3"}.
#ifndef PSG_REPORT_MACHINE_H_
#define PSG_REPORT_MACHINE_H_

#include "io/json_writer.h"

namespace psg::report {

// The CPU model (/proc/cpuinfo), OpenMP's thread count and oneDNN's version.
io::Json MachineJson();

}  // namespace psg::report

#endif  // PSG_REPORT_MACHINE_H_
