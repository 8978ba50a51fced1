#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/files.h"

namespace psg::report {
namespace {

// Matplotlib's "tab10": distinct hues that stay apart in greyscale print too.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* Colour(size_t i) { return kPalette[i % std::size(kPalette)]; }

// Pixel coordinates: two decimals are far below what a screen resolves.
std::string Px(double v) { return absl::StrFormat("%.2f", v); }
std::string TickLabel(double v) { return absl::StrFormat("%g", v); }

[[noreturn]] void Fail(const std::string& message) {
  throw std::invalid_argument("svg_plot: " + message);
}

void CheckFinite(double v, const std::string& what) {
  if (!std::isfinite(v)) Fail(absl::StrCat(what, " is not finite (", v, ")"));
}

void CheckFigureSize(int width, int height) {
  if (width < 200 || height < 150) {
    Fail(absl::StrCat("figure ", width, "x", height, " is too small (at least 200x150)"));
  }
}

// The plot area inside the figure, in pixels.
struct Frame {
  double left, top, right, bottom;
};

// Margins leave room for the title, tick and axis labels, and the legend on
// the right, whose width follows the longest series name (~7 px a character).
Frame PlotFrame(int width, int height, const std::vector<std::string>& names) {
  size_t longest = 0;
  for (const std::string& name : names) longest = std::max(longest, name.size());
  const Frame frame{70, 36, width - 20 - (36 + 7.0 * longest), height - 50.0};
  if (frame.right - frame.left < 80) {
    Fail(absl::StrCat("figure width ", width, " is too small for the legend"));
  }
  return frame;
}

std::string OpenDocument(int width, int height, const Frame& frame, const std::string& title,
                         const std::string& x_label, const std::string& y_label) {
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      width, height, width, height);
  const double x_mid = (frame.left + frame.right) / 2, y_mid = (frame.top + frame.bottom) / 2;
  absl::StrAppend(&out, "<text x=\"", Px(x_mid), "\" y=\"22\" text-anchor=\"middle\" ",
                  "font-size=\"15\">", XmlEscape(title), "</text>\n");
  absl::StrAppend(&out, "<text x=\"", Px(x_mid), "\" y=\"", Px(height - 12.0),
                  "\" text-anchor=\"middle\">", XmlEscape(x_label), "</text>\n");
  absl::StrAppend(&out, "<text x=\"16\" y=\"", Px(y_mid), "\" text-anchor=\"middle\" ",
                  "transform=\"rotate(-90 16 ", Px(y_mid), ")\">", XmlEscape(y_label), "</text>\n");
  return out;
}

// Tick marks with labels, horizontal grid lines, and the frame.
void AppendAxes(std::string& out, const Frame& frame, const Axis& x,
                const std::vector<double>& x_ticks, const Axis& y,
                const std::vector<double>& y_ticks) {
  for (double t : y_ticks) {
    const std::string py = Px(y.ToPixel(t));
    absl::StrAppend(&out, "<line x1=\"", Px(frame.left), "\" y1=\"", py, "\" x2=\"",
                    Px(frame.right), "\" y2=\"", py, "\" stroke=\"#e6e6e6\"/>\n");
    absl::StrAppend(&out, "<line x1=\"", Px(frame.left - 5), "\" y1=\"", py, "\" x2=\"",
                    Px(frame.left), "\" y2=\"", py, "\" stroke=\"black\"/>\n");
    absl::StrAppend(&out, "<text x=\"", Px(frame.left - 8), "\" y=\"", py,
                    "\" text-anchor=\"end\" dy=\"0.35em\">", TickLabel(t), "</text>\n");
  }
  for (double t : x_ticks) {
    const std::string px = Px(x.ToPixel(t));
    absl::StrAppend(&out, "<line x1=\"", px, "\" y1=\"", Px(frame.bottom), "\" x2=\"", px,
                    "\" y2=\"", Px(frame.bottom + 5), "\" stroke=\"black\"/>\n");
    absl::StrAppend(&out, "<text x=\"", px, "\" y=\"", Px(frame.bottom + 18),
                    "\" text-anchor=\"middle\">", TickLabel(t), "</text>\n");
  }
  absl::StrAppend(&out, "<rect x=\"", Px(frame.left), "\" y=\"", Px(frame.top), "\" width=\"",
                  Px(frame.right - frame.left), "\" height=\"", Px(frame.bottom - frame.top),
                  "\" fill=\"none\" stroke=\"black\"/>\n");
}

// One entry per series right of the plot area: a line with a marker, or a bar swatch.
void AppendLegend(std::string& out, const Frame& frame, const std::vector<std::string>& names,
                  bool bars) {
  for (size_t i = 0; i < names.size(); ++i) {
    const double x = frame.right + 14, y = frame.top + 10 + 18.0 * i;
    if (bars) {
      absl::StrAppend(&out, "<rect x=\"", Px(x), "\" y=\"", Px(y - 5), "\" width=\"16\" ",
                      "height=\"10\" fill=\"", Colour(i), "\" fill-opacity=\"0.45\" stroke=\"",
                      Colour(i), "\"/>\n");
    } else {
      absl::StrAppend(&out, "<line x1=\"", Px(x), "\" y1=\"", Px(y), "\" x2=\"", Px(x + 16),
                      "\" y2=\"", Px(y), "\" stroke=\"", Colour(i), "\" stroke-width=\"1.8\"/>\n");
      absl::StrAppend(&out, "<circle cx=\"", Px(x + 8), "\" cy=\"", Px(y), "\" r=\"3\" fill=\"",
                      Colour(i), "\"/>\n");
    }
    absl::StrAppend(&out, "<text class=\"legend\" x=\"", Px(x + 22), "\" y=\"", Px(y),
                    "\" dy=\"0.35em\">", XmlEscape(names[i]), "</text>\n");
  }
}

std::pair<double, double> MinMax(const std::vector<double>& values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return {*lo, *hi};
}

}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

Axis::Axis(double lo, double hi, double pixel_lo, double pixel_hi, bool log)
    : lo_(lo), hi_(hi), pixel_lo_(pixel_lo), pixel_hi_(pixel_hi), log_(log) {
  if (!(lo < hi)) Fail(absl::StrCat("axis range [", lo, ", ", hi, "] is empty"));
  if (log && lo <= 0) Fail(absl::StrCat("log axis range starts at ", lo, " <= 0"));
}

double Axis::ToPixel(double value) const {
  const double t = log_
                       ? (std::log10(value) - std::log10(lo_)) / (std::log10(hi_) - std::log10(lo_))
                       : (value - lo_) / (hi_ - lo_);
  return pixel_lo_ + t * (pixel_hi_ - pixel_lo_);
}

std::vector<double> NiceTicks(double lo, double hi, int target_count) {
  CheckFinite(lo, "tick range start");
  CheckFinite(hi, "tick range end");
  if (lo > hi) Fail(absl::StrCat("tick range [", lo, ", ", hi, "] is reversed"));
  if (lo == hi) {  // one value: show a small neighbourhood of it
    const double d = lo == 0 ? 1 : 0.1 * std::abs(lo);
    lo -= d;
    hi += d;
  }
  const double raw = (hi - lo) / std::max(1, target_count);
  const int exponent = static_cast<int>(std::floor(std::log10(raw)));
  const double magnitude = std::pow(10.0, exponent), r = raw / magnitude;
  // The tolerance keeps rounding noise (0.025 / 5 = 0.0050000000000000044)
  // from doubling the step.
  const int units = r <= 1 + 1e-9 ? 1 : r <= 2 + 1e-9 ? 2 : r <= 5 + 1e-9 ? 5 : 10;
  // Ticks are k * units * 10^exponent; dividing by 10^-exponent for negative
  // exponents keeps 0.3 from printing as 0.30000000000000004.
  const auto tick = [&](double k) {
    return exponent >= 0 ? k * units * magnitude : k * units / std::pow(10.0, -exponent);
  };
  const double step = units * magnitude;
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last; ++k) ticks.push_back(tick(k));
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  if (!(lo > 0 && lo <= hi && std::isfinite(hi))) {
    Fail(absl::StrCat("log tick range [", lo, ", ", hi, "] must satisfy 0 < lo <= hi"));
  }
  int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  if (e0 == e1) {  // lo == hi == a power of ten
    --e0;
    ++e1;
  }
  const int decades_per_tick = (e1 - e0 + 9) / 10;  // at most ~10 labels
  e1 = e0 + (e1 - e0 + decades_per_tick - 1) / decades_per_tick * decades_per_tick;
  std::vector<double> ticks;
  for (int e = e0; e <= e1; e += decades_per_tick) {
    ticks.push_back(std::pow(10.0, e));
    if (e1 - e0 <= 2 && e < e1) {
      ticks.push_back(2 * std::pow(10.0, e));
      ticks.push_back(5 * std::pow(10.0, e));
    }
  }
  return ticks;
}

std::string LinePlotSvg(const std::vector<Series>& series, const LinePlotOptions& options) {
  CheckFigureSize(options.width, options.height);
  if (series.empty()) Fail("line plot has no series");
  std::vector<double> all_x = options.x_ticks, all_y;
  std::vector<std::string> names;
  for (const Series& s : series) {
    const std::string what = "series '" + s.name + "'";
    if (s.x.size() != s.y.size()) {
      Fail(absl::StrCat(what, ": ", s.x.size(), " x values but ", s.y.size(), " y values"));
    }
    if (s.x.empty()) Fail(what + " is empty");
    for (size_t i = 0; i < s.x.size(); ++i) {
      CheckFinite(s.x[i], absl::StrCat(what, ": x[", i, "]"));
      CheckFinite(s.y[i], absl::StrCat(what, ": y[", i, "]"));
      if (options.log_y && s.y[i] <= 0) {
        Fail(absl::StrCat(what, ": y[", i, "] = ", s.y[i], " is not > 0 on a log y axis"));
      }
    }
    all_x.insert(all_x.end(), s.x.begin(), s.x.end());
    all_y.insert(all_y.end(), s.y.begin(), s.y.end());
    names.push_back(s.name);
  }
  for (double t : options.x_ticks) CheckFinite(t, "x tick");

  // Automatic ticks extend the axis to round numbers; explicit ones (e.g. the
  // bit-widths) are shown as given over the data's range.
  auto [x_lo, x_hi] = MinMax(all_x);
  std::vector<double> x_ticks = options.x_ticks;
  if (x_ticks.empty()) {
    x_ticks = NiceTicks(x_lo, x_hi);
    x_lo = std::min(x_lo, x_ticks.front());
    x_hi = std::max(x_hi, x_ticks.back());
  } else if (x_lo == x_hi) {
    x_lo -= 1;
    x_hi += 1;
  }
  auto [y_lo, y_hi] = MinMax(all_y);
  const std::vector<double> y_ticks = options.log_y ? LogTicks(y_lo, y_hi) : NiceTicks(y_lo, y_hi);
  y_lo = std::min(y_lo, y_ticks.front());
  y_hi = std::max(y_hi, y_ticks.back());

  const Frame frame = PlotFrame(options.width, options.height, names);
  // An 8 px inset keeps markers at the ends of the range off the frame.
  const Axis x(x_lo, x_hi, frame.left + 8, frame.right - 8);
  const Axis y(y_lo, y_hi, frame.bottom - 8, frame.top + 8, options.log_y);
  std::string out = OpenDocument(options.width, options.height, frame, options.title,
                                 options.x_label, options.y_label);
  AppendAxes(out, frame, x, x_ticks, y, y_ticks);
  for (size_t i = 0; i < series.size(); ++i) {
    std::string points, markers;
    for (size_t j = 0; j < series[i].x.size(); ++j) {
      const std::string px = Px(x.ToPixel(series[i].x[j])), py = Px(y.ToPixel(series[i].y[j]));
      absl::StrAppend(&points, j == 0 ? "" : " ", px, ",", py);
      absl::StrAppend(&markers, "<circle cx=\"", px, "\" cy=\"", py, "\" r=\"3\" fill=\"",
                      Colour(i), "\"/>\n");
    }
    absl::StrAppend(&out, "<polyline class=\"series\" fill=\"none\" stroke=\"", Colour(i),
                    "\" stroke-width=\"1.8\" points=\"", points, "\"/>\n", markers);
  }
  AppendLegend(out, frame, names, /*bars=*/false);
  return out + "</svg>\n";
}

std::vector<int64_t> HistogramCounts(const std::vector<float>& values, int bins, double lo,
                                     double hi) {
  if (bins < 1) Fail(absl::StrCat("bins = ", bins, " must be >= 1"));
  CheckFinite(lo, "histogram range start");
  CheckFinite(hi, "histogram range end");
  if (!(lo < hi)) Fail(absl::StrCat("histogram range [", lo, ", ", hi, "] is empty"));
  const auto edge = [&](int i) { return lo + (hi - lo) * i / bins; };
  std::vector<int64_t> counts(bins, 0);
  for (float value : values) {
    const double v = value;
    CheckFinite(v, "histogram value");
    if (v < lo || v > hi) continue;
    int i = std::clamp(static_cast<int>((v - lo) / (hi - lo) * bins), 0, bins - 1);
    // The division can round across an edge; settle on the edges as documented.
    while (i > 0 && v < edge(i)) --i;
    while (i < bins - 1 && v >= edge(i + 1)) ++i;
    ++counts[i];
  }
  return counts;
}

std::string HistogramSvg(const std::vector<HistogramSeries>& series,
                         const HistogramOptions& options) {
  CheckFigureSize(options.width, options.height);
  if (series.empty()) Fail("histogram has no series");
  if (options.bins < 1) Fail(absl::StrCat("bins = ", options.bins, " must be >= 1"));
  double data_lo = std::numeric_limits<double>::infinity(), data_hi = -data_lo;
  std::vector<std::string> names;
  for (const HistogramSeries& s : series) {
    if (s.values.empty()) Fail("series '" + s.name + "' is empty");
    for (size_t i = 0; i < s.values.size(); ++i) {
      CheckFinite(s.values[i], absl::StrCat("series '", s.name, "': value[", i, "]"));
      data_lo = std::min<double>(data_lo, s.values[i]);
      data_hi = std::max<double>(data_hi, s.values[i]);
    }
    names.push_back(s.name);
  }
  for (double v : options.vertical_lines) CheckFinite(v, "vertical line");
  double lo = options.lo.value_or(data_lo), hi = options.hi.value_or(data_hi);
  if (lo == hi && !options.lo && !options.hi) {  // all values equal (as numpy)
    lo -= 0.5;
    hi += 0.5;
  }
  if (!(lo < hi)) Fail(absl::StrCat("histogram range [", lo, ", ", hi, "] is empty"));

  const double bin_width = (hi - lo) / options.bins;
  std::vector<std::vector<double>> heights;
  double top = 0;
  for (const HistogramSeries& s : series) {
    const std::vector<int64_t> counts = HistogramCounts(s.values, options.bins, lo, hi);
    int64_t counted = 0;
    for (int64_t c : counts) counted += c;
    std::vector<double>& h = heights.emplace_back(counts.begin(), counts.end());
    if (options.density && counted > 0) {
      for (double& v : h) v /= counted * bin_width;
    }
    top = std::max(top, *std::max_element(h.begin(), h.end()));
  }
  const std::vector<double> y_ticks = NiceTicks(0, top > 0 ? top : 1);
  // Bars fill the x range exactly, so only the ticks inside it are shown.
  std::vector<double> x_ticks;
  for (double t : NiceTicks(lo, hi)) {
    if (t >= lo - 1e-9 * (hi - lo) && t <= hi + 1e-9 * (hi - lo)) x_ticks.push_back(t);
  }

  const Frame frame = PlotFrame(options.width, options.height, names);
  const Axis x(lo, hi, frame.left, frame.right);
  const Axis y(0, y_ticks.back(), frame.bottom, frame.top);
  const std::string y_label = !options.y_label.empty() ? options.y_label
                              : options.density        ? "density"
                                                       : "count";
  std::string out =
      OpenDocument(options.width, options.height, frame, options.title, options.x_label, y_label);
  AppendAxes(out, frame, x, x_ticks, y, y_ticks);
  for (size_t i = 0; i < heights.size(); ++i) {
    for (int b = 0; b < options.bins; ++b) {
      if (heights[i][b] == 0) continue;
      const double x0 = x.ToPixel(lo + bin_width * b), x1 = x.ToPixel(lo + bin_width * (b + 1));
      const double y1 = y.ToPixel(heights[i][b]);
      absl::StrAppend(&out, "<rect class=\"bar\" x=\"", Px(x0), "\" y=\"", Px(y1), "\" width=\"",
                      Px(x1 - x0), "\" height=\"", Px(frame.bottom - y1), "\" fill=\"", Colour(i),
                      "\" fill-opacity=\"0.45\"/>\n");
    }
  }
  for (double v : options.vertical_lines) {
    if (v < lo || v > hi) continue;
    const std::string px = Px(x.ToPixel(v));
    absl::StrAppend(&out, "<line class=\"vline\" x1=\"", px, "\" y1=\"", Px(frame.top), "\" x2=\"",
                    px, "\" y2=\"", Px(frame.bottom),
                    "\" stroke=\"#333333\" stroke-dasharray=\"4 3\"/>\n");
  }
  AppendLegend(out, frame, names, /*bars=*/true);
  return out + "</svg>\n";
}

void WriteSvg(const std::string& path, const std::string& svg) {
  if (absl::Status s = io::WriteFileAtomically(path, svg); !s.ok()) throw std::runtime_error(std::string(s.message()));
}

}  // namespace psg::report
