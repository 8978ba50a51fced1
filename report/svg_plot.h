// Minimal SVG figures for the experiments' results, written next to their
// JSON: line plots (accuracy or quantization MSE vs bit-width, accuracy vs
// sparsity, training curves) and overlapping weight histograms with the
// quantization grid drawn as vertical lines. No dependencies beyond Abseil;
// the output is a self-contained SVG file any browser shows.
//
//   LinePlotOptions options{.title = "ResNet-20, CIFAR-10", .x_label = "bits",
//                           .y_label = "test accuracy", .x_ticks = {2, 3, 4, 6, 8}};
//   WriteSvg("runs/ptq/accuracy.svg",
//            LinePlotSvg({{"SGD", bits, sgd_acc}, {"PSGD", bits, psgd_acc}}, options));
//
//   HistogramOptions h{.title = "layer1.0.conv1", .x_label = "weight", .bins = 120,
//                      .vertical_lines = grid_points};
//   WriteSvg("runs/psgd/hist.svg", HistogramSvg({{"SGD", w_sgd}, {"PSGD", w_psgd}}, h));
//
// Invalid input (no or empty series, x/y size mismatch, NaN/Inf, bins < 1,
// a figure too small, non-positive y on a log axis) throws std::invalid_argument.
#ifndef PSG_REPORT_SVG_PLOT_H_
#define PSG_REPORT_SVG_PLOT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psg::report {

// One named curve of a line plot; x and y have the same size (>= 1). Points
// are joined in the given order.
struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct LinePlotOptions {
  std::string title, x_label, y_label;
  bool log_y = false;             // decade ticks; every y must be > 0
  std::vector<double> x_ticks;    // empty: automatic 1/2/5 x 10^k ticks
  int width = 640, height = 420;  // pixels, at least 200 x 150
};

// The SVG document of a line plot: one polyline with point markers per series
// (colours cycle through a fixed palette), a legend right of the plot area.
std::string LinePlotSvg(const std::vector<Series>& series, const LinePlotOptions& options);

// One named set of raw values of a histogram figure (e.g. one layer's weights).
struct HistogramSeries {
  std::string name;
  std::vector<float> values;
};

struct HistogramOptions {
  std::string title, x_label;
  std::string y_label;  // empty: "count", or "density" with `density`
  int bins = 100;
  bool density = false;  // per series, count / (counted values * bin width)
  // The bin range; each defaults to the min / max over all series' values.
  std::optional<double> lo, hi;
  std::vector<double> vertical_lines;  // e.g. grid points; those outside [lo, hi] are skipped
  int width = 640, height = 420;
};

// The SVG document of overlapping semi-transparent histograms with the same bins.
std::string HistogramSvg(const std::vector<HistogramSeries>& series,
                         const HistogramOptions& options);

// Writes `svg` to `path` atomically (io/files.h); throws std::runtime_error
// naming the path and the system error on failure.
void WriteSvg(const std::string& path, const std::string& svg);

// --- Building blocks, public for tests and reuse. ---

// Counts of `values` in `bins` equal bins over [lo, hi] (lo < hi): bin i holds
// edge(i) <= v < edge(i + 1) with edge(i) = lo + (hi - lo) * i / bins; the last
// bin also holds v == hi. Values outside [lo, hi] are not counted (as
// numpy.histogram). Throws on bins < 1, lo >= hi, non-finite bounds or values.
std::vector<int64_t> HistogramCounts(const std::vector<float>& values, int bins, double lo,
                                     double hi);

// Evenly spaced ticks with a step of 1, 2 or 5 x 10^k, about `target_count`
// intervals, from the last multiple of the step <= lo to the first >= hi.
// lo == hi is widened first. Throws on non-finite bounds or lo > hi.
std::vector<double> NiceTicks(double lo, double hi, int target_count = 5);

// Powers of ten from 10^floor(log10 lo) to 10^ceil(log10 hi) (0 < lo <= hi);
// spans of at most two decades also get 2 and 5 x 10^k in between.
std::vector<double> LogTicks(double lo, double hi);

// Maps data values in [lo, hi] linearly (or linearly in log10 when `log`) to
// pixels in [pixel_lo, pixel_hi]; pixel_lo > pixel_hi for an upward y axis.
class Axis {
 public:
  Axis(double lo, double hi, double pixel_lo, double pixel_hi, bool log = false);
  double ToPixel(double value) const;
  double lo() const { return lo_; }
  double hi() const { return hi_; }

 private:
  double lo_, hi_, pixel_lo_, pixel_hi_;
  bool log_;
};

// `text` with &, <, >, " replaced by XML entities.
std::string XmlEscape(const std::string& text);

}  // namespace psg::report

#endif  // PSG_REPORT_SVG_PLOT_H_
