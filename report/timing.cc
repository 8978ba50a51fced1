#include "report/timing.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace psg::report {

double MedianSeconds(int passes, const std::function<void()>& run, int warmup) {
  return InterleavedMedianSeconds(passes, {run}, warmup)[0];
}

std::vector<double> InterleavedMedianSeconds(int passes,
                                             const std::vector<std::function<void()>>& runs,
                                             int warmup) {
  if (passes < 1) throw std::invalid_argument("timing: passes must be >= 1");
  for (int i = 0; i < warmup; ++i) {
    for (const auto& run : runs) run();
  }
  std::vector<std::vector<double>> seconds(runs.size());
  for (int i = 0; i < passes; ++i) {
    for (size_t r = 0; r < runs.size(); ++r) {
      const auto start = std::chrono::steady_clock::now();
      runs[r]();
      seconds[r].push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  std::vector<double> medians;
  for (std::vector<double>& s : seconds) {
    std::sort(s.begin(), s.end());
    medians.push_back(s[s.size() / 2]);
  }
  return medians;
}

}  // namespace psg::report
