#include "report/machine.h"

#include <omp.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "oneapi/dnnl/dnnl.h"

namespace psg::report {

io::Json MachineJson() {
  std::string cpu = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (absl::StartsWith(line, "model name")) {
      cpu = std::string(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
      break;
    }
  }
  const dnnl_version_t* v = dnnl_version();
  return {{"cpu", cpu},
          {"threads", omp_get_max_threads()},
          {"onednn", absl::StrFormat("%d.%d.%d", v->major, v->minor, v->patch)}};
}

}  // namespace psg::report
