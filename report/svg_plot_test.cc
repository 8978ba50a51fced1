#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/testing/throws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::report {
namespace {

using ::testing::DoubleEq;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Empty if every element of `xml` is closed in order and every '&' starts an
// entity; else what is wrong. Unescaped '<' in text shows up as a stray tag.
std::string WellFormedError(const std::string& xml) {
  std::vector<std::string> open;
  for (size_t pos = xml.find('<'); pos != std::string::npos; pos = xml.find('<', pos + 1)) {
    const size_t end = xml.find('>', pos);
    if (end == std::string::npos) return "unterminated tag";
    const std::string tag = xml.substr(pos + 1, end - pos - 1);
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "unexpected <" + tag + ">";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  for (size_t pos = xml.find('&'); pos != std::string::npos; pos = xml.find('&', pos + 1)) {
    bool entity = false;
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;"})
      entity |= xml.compare(pos, std::strlen(e), e) == 0;
    if (!entity) return "bare & at " + std::to_string(pos);
  }
  return "";
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// The elements of `svg` starting with `open` (e.g. "<rect class=\"bar\""), each up to its '>'.
std::vector<std::string> Elements(const std::string& svg, const std::string& open) {
  std::vector<std::string> out;
  for (size_t pos = svg.find(open); pos != std::string::npos; pos = svg.find(open, pos + 1)) {
    out.push_back(svg.substr(pos, svg.find('>', pos) - pos + 1));
  }
  return out;
}

std::string Attr(const std::string& element, const std::string& name) {
  const std::string key = " " + name + "=\"";
  size_t pos = element.find(key);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "no " << name << " in " << element;
    return "";
  }
  pos += key.size();
  return element.substr(pos, element.find('"', pos) - pos);
}

double NumAttr(const std::string& element, const std::string& name) {
  return std::stod(Attr(element, name));
}

struct Point {
  double x, y;
};

// The vertices of every series' polyline, in series order.
std::vector<std::vector<Point>> Polylines(const std::string& svg) {
  std::vector<std::vector<Point>> lines;
  for (const std::string& e : Elements(svg, "<polyline class=\"series\"")) {
    std::istringstream points(Attr(e, "points"));
    std::string pair;
    std::vector<Point>& line = lines.emplace_back();
    while (points >> pair) {
      Point p;
      EXPECT_EQ(std::sscanf(pair.c_str(), "%lf,%lf", &p.x, &p.y), 2) << pair;
      line.push_back(p);
    }
  }
  return lines;
}

TEST(HistogramCountsTest, MatchesABruteForceCountIncludingEdgesAndTails) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> values;
  for (int i = 0; i < 5000; ++i) values.push_back(normal(rng));
  const double lo = -2, hi = 2.5;  // the normal's tails fall outside
  for (int bins : {1, 7, 9, 50}) {
    std::vector<float> with_edges = values;
    for (int i = 0; i <= bins; ++i)
      with_edges.push_back(static_cast<float>(lo + (hi - lo) * i / bins));
    with_edges.push_back(std::nextafter(static_cast<float>(lo), -10.f));
    with_edges.push_back(std::nextafter(static_cast<float>(hi), 10.f));
    std::vector<int64_t> expected(bins, 0);
    for (float value : with_edges) {
      const double v = value;
      for (int i = 0; i < bins; ++i) {
        const double left = lo + (hi - lo) * i / bins, right = lo + (hi - lo) * (i + 1) / bins;
        if (left <= v && (v < right || (i == bins - 1 && v == hi))) ++expected[i];
      }
    }
    EXPECT_EQ(HistogramCounts(with_edges, bins, lo, hi), expected) << bins << " bins";
  }
  // Exactly representable edges: each lands in the bin it starts; hi in the last.
  EXPECT_THAT(HistogramCounts({-2.f, -1.5f, -1.f, 1.5f, 2.f, -2.5f, 2.25f}, 8, -2, 2),
              ElementsAre(1, 1, 1, 0, 0, 0, 0, 1 + 1));
  EXPECT_THAT(HistogramCounts({}, 3, 0, 1), ElementsAre(0, 0, 0));
}

TEST(HistogramCountsTest, RejectsBadArguments) {
  EXPECT_THAT([] { HistogramCounts({1.f}, 0, 0, 1); }, ThrowsInvalidArgument("bins = 0"));
  EXPECT_THAT([] { HistogramCounts({1.f}, 4, 1, 1); }, ThrowsInvalidArgument("is empty"));
  EXPECT_THAT([] { HistogramCounts({1.f}, 4, 0, kInf); }, ThrowsInvalidArgument("not finite"));
  EXPECT_THAT(
      [] {
        HistogramCounts({0.5f, static_cast<float>(kNaN)}, 4, 0, 1);
      },
      ThrowsInvalidArgument("histogram value is not finite"));
}

TEST(NiceTicksTest, CoverTheRangeWithOneTwoFiveSteps) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> exponent(-5, 5), offset(-3, 3);
  for (int trial = 0; trial < 2000; ++trial) {
    const double span = std::pow(10.0, exponent(rng));
    const double lo = offset(rng) * span, hi = lo + span;
    const std::vector<double> ticks = NiceTicks(lo, hi);
    ASSERT_GE(ticks.size(), 3u) << lo << " " << hi;
    const double step = ticks[1] - ticks[0];
    EXPECT_LE(ticks.front(), lo + 1e-9 * step) << lo << " " << hi;
    EXPECT_GE(ticks.back(), hi - 1e-9 * step) << lo << " " << hi;
    EXPECT_LE(ticks.size() - 1, 7u) << lo << " " << hi;
    for (size_t i = 1; i < ticks.size(); ++i) {
      EXPECT_NEAR(ticks[i] - ticks[i - 1], step, 1e-6 * step);
    }
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
                std::abs(mantissa - 5) < 1e-6)
        << "step " << step;
    // Ticks are multiples of the step, so labels are round numbers.
    EXPECT_NEAR(ticks[0] / step, std::round(ticks[0] / step), 1e-6);
  }
  EXPECT_THAT(NiceTicks(0, 1),
              ElementsAre(0, DoubleEq(0.2), DoubleEq(0.4), DoubleEq(0.6), DoubleEq(0.8), 1));
  EXPECT_THAT(NiceTicks(0.905, 0.93), ElementsAre(DoubleEq(0.905), DoubleEq(0.91), DoubleEq(0.915),
                                                  DoubleEq(0.92), DoubleEq(0.925), DoubleEq(0.93)));
  EXPECT_THAT(NiceTicks(0, 160), ElementsAre(0, 50, 100, 150, 200));
  // One value: a neighbourhood around it.
  const std::vector<double> around = NiceTicks(0.9, 0.9);
  EXPECT_LT(around.front(), 0.9);
  EXPECT_GT(around.back(), 0.9);
  EXPECT_THAT([] { NiceTicks(1, 0); }, ThrowsInvalidArgument("reversed"));
  EXPECT_THAT([] { NiceTicks(kNaN, 0); }, ThrowsInvalidArgument("not finite"));
}

TEST(LogTicksTest, DecadesCoverTheRange) {
  EXPECT_THAT(LogTicks(0.003, 0.2),
              ElementsAre(DoubleEq(1e-3), DoubleEq(1e-2), DoubleEq(1e-1), DoubleEq(1)));
  EXPECT_THAT(LogTicks(2e-3, 5e-3),
              ElementsAre(DoubleEq(1e-3), DoubleEq(2e-3), DoubleEq(5e-3), DoubleEq(1e-2)));
  EXPECT_THAT(LogTicks(1, 1),
              ElementsAre(DoubleEq(0.1), DoubleEq(0.2), DoubleEq(0.5), 1, 2, 5, 10));
  const std::vector<double> wide = LogTicks(3e-13, 2);  // 14 decades: every second one
  EXPECT_LE(wide.front(), 3e-13);
  EXPECT_GE(wide.back(), 2);
  EXPECT_LE(wide.size(), 11u);
  for (size_t i = 1; i < wide.size(); ++i) EXPECT_NEAR(wide[i] / wide[i - 1], 100, 1e-9);
  EXPECT_THAT([] { LogTicks(0, 1); }, ThrowsInvalidArgument("0 < lo <= hi"));
}

TEST(AxisTest, MapsLinearlyAndInLogSpaceByTheClosedForm) {
  const Axis linear(2, 8, 100, 500);
  for (double v : {2.0, 3.0, 4.5, 8.0, 10.0}) {
    EXPECT_DOUBLE_EQ(linear.ToPixel(v), 100 + (v - 2) / 6 * 400) << v;
  }
  const Axis up(-1, 1, 380, 20);  // y axis: larger values higher up
  EXPECT_DOUBLE_EQ(up.ToPixel(0), 200);
  EXPECT_DOUBLE_EQ(up.ToPixel(1), 20);
  const Axis log(1e-4, 1e-1, 300, 20, /*log=*/true);
  for (double v : {1e-4, 3e-4, 1e-3, 0.05, 0.1}) {
    EXPECT_NEAR(log.ToPixel(v), 300 + (std::log10(v) + 4) / 3 * -280, 1e-9) << v;
  }
  EXPECT_NEAR(log.ToPixel(1e-3), 300 - 280.0 / 3, 1e-9);
  EXPECT_THAT([] { Axis(1, 1, 0, 100); }, ThrowsInvalidArgument("is empty"));
  EXPECT_THAT([] { Axis(0, 1, 0, 100, true); }, ThrowsInvalidArgument("<= 0"));
}

TEST(XmlEscapeTest, EscapesMarkupCharacters) {
  EXPECT_EQ(XmlEscape("a<b> & \"c\" 'd'"), "a&lt;b&gt; &amp; &quot;c&quot; 'd'");
}

TEST(LinePlotTest, IsWellFormedWithEveryEscapedSeriesInTheLegend) {
  const std::vector<Series> series = {
      {"SGD", {2, 3, 4, 6, 8}, {0.1, 0.5, 0.88, 0.91, 0.92}},
      {"PSGD <4-bit> & \"grid\"", {2, 3, 4, 6, 8}, {0.3, 0.8, 0.91, 0.915, 0.92}},
      {"one point", {5}, {0.5}}};
  const std::string svg = LinePlotSvg(
      series, {.title = "acc < fp & bits", .x_label = "bits", .y_label = "test accuracy"});
  EXPECT_EQ(WellFormedError(svg), "");
  EXPECT_EQ(Count(svg, "<svg"), 1);
  EXPECT_EQ(Count(svg, "</svg>"), 1);
  EXPECT_THAT(svg, HasSubstr("acc &lt; fp &amp; bits"));
  EXPECT_THAT(svg, Not(HasSubstr("<4-bit>")));
  std::vector<std::string> legend;
  for (const std::string& e : Elements(svg, "<text class=\"legend\"")) {
    const size_t at = svg.find(e) + e.size();
    legend.push_back(svg.substr(at, svg.find("</text>", at) - at));
  }
  EXPECT_THAT(legend, ElementsAre("SGD", "PSGD &lt;4-bit&gt; &amp; &quot;grid&quot;", "one point"));
  // A polyline and a marker per point, distinct colours, plus one legend marker per series.
  const std::vector<std::vector<Point>> lines = Polylines(svg);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), 5u);
  EXPECT_EQ(Count(svg, "<circle"), 5 + 5 + 1 + 3);
  const auto polylines = Elements(svg, "<polyline");
  EXPECT_NE(Attr(polylines[0], "stroke"), Attr(polylines[1], "stroke"));
  EXPECT_NE(Attr(polylines[1], "stroke"), Attr(polylines[2], "stroke"));
}

// Points in pixels relate as the data do: spacing in proportion, and a line in
// data space (a power law under log_y) stays a line in pixels.
TEST(LinePlotTest, PointsFollowTheLinearAndLogAxisMapping) {
  const std::vector<double> x = {0, 1, 3, 7};
  std::vector<double> linear_y, power_y;
  for (double v : x) {
    linear_y.push_back(2 * v + 1);
    power_y.push_back(std::pow(10.0, -0.5 * v));
  }
  const auto check_collinear = [](const std::vector<Point>& p, bool expect) {
    const double slope = (p.back().y - p[0].y) / (p.back().x - p[0].x);
    bool collinear = true;
    for (const Point& q : p) collinear &= std::abs(p[0].y + slope * (q.x - p[0].x) - q.y) < 0.05;
    EXPECT_EQ(collinear, expect);
  };
  for (bool log_y : {false, true}) {
    const std::string svg = LinePlotSvg({{"s", x, log_y ? power_y : linear_y}},
                                        {.log_y = log_y, .width = 500, .height = 300});
    EXPECT_EQ(WellFormedError(svg), "");
    const std::vector<Point> p = Polylines(svg).at(0);
    ASSERT_EQ(p.size(), 4u);
    EXPECT_NEAR((p[2].x - p[1].x) / (p[1].x - p[0].x), 2.0, 0.01);
    EXPECT_NEAR((p[3].x - p[2].x) / (p[1].x - p[0].x), 4.0, 0.01);
    // Larger y is higher up (smaller pixel y); the power law decreases.
    if (log_y) {
      EXPECT_GT(p[1].y, p[0].y);
    } else {
      EXPECT_LT(p[1].y, p[0].y);
    }
    check_collinear(p, true);
    // The same power law on a linear axis bends.
    if (log_y) {
      check_collinear(Polylines(LinePlotSvg({{"s", x, power_y}}, {})).at(0), false);
    }
    for (const Point& q : p) {
      EXPECT_GT(q.x, 0);
      EXPECT_LT(q.x, 500);
      EXPECT_GT(q.y, 0);
      EXPECT_LT(q.y, 300);
    }
  }
}

TEST(LinePlotTest, ExplicitXTicksAndLogTicksAreLabelled) {
  const std::vector<double> bits = {2, 3, 4, 6, 8};
  const std::string svg = LinePlotSvg({{"MSE", bits, {2e-2, 6e-3, 1.5e-3, 1e-4, 6e-6}}},
                                      {.log_y = true, .x_ticks = bits});
  EXPECT_EQ(WellFormedError(svg), "");
  std::map<std::string, double> x_label_pixel;
  for (const std::string& e : Elements(svg, "<text x=")) {
    if (e.find("text-anchor=\"middle\">") == std::string::npos) continue;  // x tick labels
    const size_t at = svg.find(e) + e.size();
    x_label_pixel[svg.substr(at, svg.find("</text>", at) - at)] = NumAttr(e, "x");
  }
  for (const char* b : {"2", "3", "4", "6", "8"}) EXPECT_TRUE(x_label_pixel.count(b)) << b;
  EXPECT_FALSE(x_label_pixel.count("5"));
  EXPECT_NEAR((x_label_pixel["8"] - x_label_pixel["4"]) / (x_label_pixel["4"] - x_label_pixel["2"]),
              2.0, 0.01);
  for (const char* decade : {">1e-06<", ">0.0001<", ">0.01<", ">0.1<"}) {
    EXPECT_THAT(svg, HasSubstr(decade));
  }
}

TEST(LinePlotTest, RejectsInvalidInput) {
  EXPECT_THAT([] { LinePlotSvg({}, {}); }, ThrowsInvalidArgument("no series"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"a", {1, 2}, {1}}}, {});
      },
      ThrowsInvalidArgument("series 'a': 2 x values but 1 y values"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"a", {1}, {1}}, {"b", {}, {}}}, {});
      },
      ThrowsInvalidArgument("series 'b' is empty"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"a", {1, kNaN}, {1, 2}}}, {});
      },
      ThrowsInvalidArgument("series 'a': x[1] is not finite"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"a", {1, 2}, {kInf, 2}}}, {});
      },
      ThrowsInvalidArgument("series 'a': y[0] is not finite"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"a", {1}, {1}}}, {.x_ticks = {kNaN}});
      },
      ThrowsInvalidArgument("x tick"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"PSGD 4-bit", {2, 3}, {1e-3, 0}}}, {.log_y = true});
      },
      ThrowsInvalidArgument("series 'PSGD 4-bit': y[1] = 0 is not > 0 on a log y axis"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"a", {1}, {1}}}, {.width = 100});
      },
      ThrowsInvalidArgument("too small"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{"a", {1}, {1}}}, {.height = 100});
      },
      ThrowsInvalidArgument("too small"));
  EXPECT_THAT(
      [] {
        LinePlotSvg({{std::string(80, 'n'), {1}, {1}}}, {});
      },
      ThrowsInvalidArgument("too small for the legend"));
}

struct Bar {
  double x, height;
};

// Bars grouped by fill colour, in order of the colour's first appearance (= series order).
std::vector<std::vector<Bar>> BarsBySeries(const std::string& svg) {
  std::vector<std::string> colours;
  std::vector<std::vector<Bar>> bars;
  for (const std::string& e : Elements(svg, "<rect class=\"bar\"")) {
    const std::string fill = Attr(e, "fill");
    size_t i = std::find(colours.begin(), colours.end(), fill) - colours.begin();
    if (i == colours.size()) {
      colours.push_back(fill);
      bars.emplace_back();
    }
    bars[i].push_back({NumAttr(e, "x"), NumAttr(e, "height")});
  }
  return bars;
}

// The non-zero bins of a brute-force count over `bins` equal bins of [lo, hi].
std::vector<double> NonZeroCounts(const std::vector<float>& values, int bins, double lo,
                                  double hi) {
  std::vector<double> counts(bins, 0);
  for (float v : values) {
    for (int i = 0; i < bins; ++i) {
      const double left = lo + (hi - lo) * i / bins, right = lo + (hi - lo) * (i + 1) / bins;
      if (left <= v && (v < right || (i == bins - 1 && v == hi))) ++counts[i];
    }
  }
  std::vector<double> non_zero;
  for (double c : counts) {
    if (c > 0) non_zero.push_back(c);
  }
  return non_zero;
}

// Bar heights over counts: the same pixels-per-unit for every bar, returned.
double PixelsPerCount(const std::vector<Bar>& bars, const std::vector<double>& counts) {
  EXPECT_EQ(bars.size(), counts.size());
  // From the tallest bar, where the 0.01 px rounding matters least.
  size_t tallest = 0;
  for (size_t i = 0; i < bars.size() && i < counts.size(); ++i) {
    if (counts[i] > counts[tallest]) tallest = i;
  }
  if (bars.empty() || counts.empty()) return 0;
  const double scale = bars[tallest].height / counts[tallest];
  for (size_t i = 0; i < bars.size() && i < counts.size(); ++i) {
    EXPECT_NEAR(bars[i].height, counts[i] * scale, 0.011) << "bar " << i;
    if (i > 0) {
      EXPECT_GT(bars[i].x, bars[i - 1].x);
    }
  }
  return scale;
}

TEST(HistogramSvgTest, BarsMatchABruteForceCount) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.f, 0.1f);
  std::vector<float> sgd, psgd;
  for (int i = 0; i < 2000; ++i) sgd.push_back(normal(rng));
  for (int i = 0; i < 2000; ++i)
    psgd.push_back(std::round(normal(rng) * 10) / 10 + normal(rng) * 0.01f);
  HistogramOptions options{.title = "conv1",
                           .x_label = "weight",
                           .bins = 40,
                           .vertical_lines = {-0.2, -0.1, 0, 0.1, 0.2, 5.0}};
  const std::string svg = HistogramSvg({{"SGD", sgd}, {"PSGD", psgd}}, options);
  EXPECT_EQ(WellFormedError(svg), "");
  EXPECT_EQ(Count(svg, "<svg"), Count(svg, "</svg>"));
  EXPECT_THAT(svg, HasSubstr(">SGD</text>"));
  EXPECT_THAT(svg, HasSubstr(">PSGD</text>"));
  EXPECT_THAT(svg, HasSubstr(">count</text>"));
  EXPECT_EQ(Count(svg, "class=\"vline\""), 5);  // 5.0 lies outside the weights

  double lo = kInf, hi = -kInf;
  for (const auto* values : {&sgd, &psgd}) {
    for (float v : *values) {
      lo = std::min<double>(lo, v);
      hi = std::max<double>(hi, v);
    }
  }
  const std::vector<std::vector<Bar>> bars = BarsBySeries(svg);
  ASSERT_EQ(bars.size(), 2u);
  const double sgd_scale = PixelsPerCount(bars[0], NonZeroCounts(sgd, 40, lo, hi));
  const double psgd_scale = PixelsPerCount(bars[1], NonZeroCounts(psgd, 40, lo, hi));
  EXPECT_NEAR(sgd_scale, psgd_scale, 1e-3 * sgd_scale);  // one shared count axis
}

TEST(HistogramSvgTest, DensityOverAnExplicitRangeNormalisesEachSeries) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.5f, 1.5f);
  std::vector<float> small, large;
  for (int i = 0; i < 1000; ++i) small.push_back(uniform(rng));
  for (int i = 0; i < 4000; ++i) large.push_back(uniform(rng));
  const double lo = -1, hi = 1;  // tails beyond are not counted
  const std::string svg = HistogramSvg({{"small", small}, {"large", large}},
                                       {.bins = 10, .density = true, .lo = lo, .hi = hi});
  EXPECT_EQ(WellFormedError(svg), "");
  EXPECT_THAT(svg, HasSubstr(">density</text>"));
  const std::vector<std::vector<Bar>> bars = BarsBySeries(svg);
  ASSERT_EQ(bars.size(), 2u);
  const std::vector<double> small_counts = NonZeroCounts(small, 10, lo, hi);
  const std::vector<double> large_counts = NonZeroCounts(large, 10, lo, hi);
  double small_in = 0, large_in = 0;
  for (double c : small_counts) small_in += c;
  for (double c : large_counts) large_in += c;
  // Density divides by each series' own number of counted values.
  EXPECT_NEAR(PixelsPerCount(bars[0], small_counts) / PixelsPerCount(bars[1], large_counts),
              large_in / small_in, 1e-3 * large_in / small_in);

  // All values equal: a unit-wide range around them, one bar.
  EXPECT_EQ(BarsBySeries(HistogramSvg({{"c", {0.5f, 0.5f}}}, {})).at(0).size(), 1u);
}

TEST(HistogramSvgTest, RejectsInvalidInput) {
  EXPECT_THAT([] { HistogramSvg({}, {}); }, ThrowsInvalidArgument("no series"));
  EXPECT_THAT(
      [] {
        HistogramSvg({{"a", {1.f}}, {"b", {}}}, {});
      },
      ThrowsInvalidArgument("series 'b' is empty"));
  EXPECT_THAT(
      [] {
        HistogramSvg({{"a", {1.f, static_cast<float>(kInf)}}}, {});
      },
      ThrowsInvalidArgument("series 'a': value[1] is not finite"));
  EXPECT_THAT([] { HistogramSvg({{"a", {1.f}}}, {.bins = 0}); }, ThrowsInvalidArgument("bins = 0"));
  EXPECT_THAT(
      [] {
        HistogramSvg({{"a", {1.f}}}, {.lo = 2, .hi = 1});
      },
      ThrowsInvalidArgument("range [2, 1] is empty"));
  EXPECT_THAT(
      [] {
        HistogramSvg({{"a", {1.f}}}, {.vertical_lines = {kNaN}});
      },
      ThrowsInvalidArgument("vertical line"));
  EXPECT_THAT(
      [] {
        HistogramSvg({{"a", {1.f}}}, {.width = 199});
      },
      ThrowsInvalidArgument("199x420 is too small"));
}

TEST(WriteSvgTest, WritesTheFileAndNamesThePathOnFailure) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/plot.svg";
  const std::string svg = LinePlotSvg({{"a", {1, 2}, {3, 4}}}, {});
  WriteSvg(path, svg);
  std::ifstream in(path, std::ios::binary);
  std::stringstream read;
  read << in.rdbuf();
  EXPECT_EQ(read.str(), svg);
  const std::string bad = "/nonexistent-dir-for-svg-test/plot.svg";
  EXPECT_THAT([&] { WriteSvg(bad, svg); },
              ::testing::Throws<std::runtime_error>(
                  ::testing::Property(&std::runtime_error::what, HasSubstr(bad))));
}

}  // namespace
}  // namespace psg::report
