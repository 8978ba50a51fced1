// Timing of the experiments' speed measurements: warm-up calls, then the
// median of timed calls. Comparing several runs on a shared machine, time
// them interleaved (every pass calls each once, in turn), so that a change of
// load hits all of them alike.
//
//   double s = MedianSeconds(20, [&] { model.Forward(x, engine::Mode::kEval); });
//   std::vector<double> ab = InterleavedMedianSeconds(20, {run_dense, run_pruned});
#ifndef PSG_REPORT_TIMING_H_
#define PSG_REPORT_TIMING_H_

#include <functional>
#include <vector>

namespace psg::report {

// Median seconds of `passes` (>= 1) calls of `run` after `warmup` untimed calls.
double MedianSeconds(int passes, const std::function<void()>& run, int warmup = 3);

// Per run, the median seconds of `passes` calls, after `warmup` untimed calls
// of each; pass p calls runs[0], runs[1], ... in turn.
std::vector<double> InterleavedMedianSeconds(int passes,
                                             const std::vector<std::function<void()>>& runs,
                                             int warmup = 3);

}  // namespace psg::report

#endif  // PSG_REPORT_TIMING_H_
