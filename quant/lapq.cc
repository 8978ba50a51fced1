#include "quant/lapq.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "compression/quant_grid.h"

namespace psg::quant {

namespace {

constexpr double kGolden = 0.6180339887498949;  // (sqrt(5) - 1) / 2

compression::GridPoint ClipGrid(int bits, bool unsigned_grid, float clip) {
  return unsigned_grid ? compression::MakeGrid(compression::GridRange::kAsymmetric, bits, 0.0f, clip)
                       : compression::MakeGrid(compression::GridRange::kRestricted, bits, -clip, clip);
}

double LpError(absl::Span<const float> x, const compression::GridPoint& grid, double p) {
  double sum = 0;
  for (float v : x) sum += std::pow(std::abs(static_cast<double>(v) - grid(v)), p);
  return sum;
}

// At most `limit` values of `x`, evenly strided: Lp clips of large tensors
// are found on a sample.
std::vector<float> Subsample(absl::Span<const float> x, size_t limit) {
  const size_t stride = std::max<size_t>(1, (x.size() + limit - 1) / limit);
  std::vector<float> out;
  for (size_t i = 0; i < x.size(); i += stride) out.push_back(x[i]);
  return out;
}

// Golden-section search of g on [a, b]; returns the best (t, g(t)) seen,
// `g0` at t = 0 included, after `evaluations` calls.
std::pair<double, double> GoldenSection(const std::function<double(double)>& g, double a, double b,
                                        double g0, int evaluations) {
  double best_t = 0, best = g0;
  double c = b - kGolden * (b - a), d = a + kGolden * (b - a);
  double gc = g(c), gd = g(d);
  for (double t : {c, d}) {
    const double v = t == c ? gc : gd;
    if (v < best) best = v, best_t = t;
  }
  for (int i = 2; i < evaluations; ++i) {
    if (gc < gd) {
      b = d, d = c, gd = gc;
      c = b - kGolden * (b - a);
      gc = g(c);
      if (gc < best) best = gc, best_t = c;
    } else {
      a = c, c = d, gc = gd;
      d = a + kGolden * (b - a);
      gd = g(d);
      if (gd < best) best = gd, best_t = d;
    }
  }
  return {best_t, best};
}

}  // namespace

double LpOptimalClip(absl::Span<const float> x, int bits, bool unsigned_grid, double p) {
  float top = 0;
  for (float v : x) top = std::max(top, unsigned_grid ? v : std::abs(v));
  if (top == 0) return 0;
  const std::vector<float> sample = Subsample(x, size_t{1} << 18);
  auto error = [&](double clip) { return LpError(sample, ClipGrid(bits, unsigned_grid, clip), p); };
  const int candidates = 100;
  int best_k = candidates;
  double best = error(top);
  for (int k = 1; k < candidates; ++k) {
    const double e = error(top * k / candidates);
    if (e < best) best = e, best_k = k;
  }
  const double center = top * best_k / candidates, width = top / candidates;
  const double lo = std::max(center - width, width * 1e-3), hi = std::min(center + width, static_cast<double>(top));
  return center + GoldenSection([&](double c) { return error(c); }, lo - center, hi - center, best, 12).first;
}

PowellResult PowellMinimize(const std::function<double(const std::vector<double>&)>& f,
                            std::vector<double> x0, const PowellOptions& options) {
  const size_t n = x0.size();
  PowellResult r;
  r.x = std::move(x0);
  r.value = f(r.x);
  r.evaluations = 1;
  std::vector<std::vector<double>> directions(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) directions[i][i] = 1;
  auto budget_left = [&] { return r.evaluations + options.line_search_evaluations <= options.max_evaluations; };
  // One line search along `d` from r.x; moves there when it is lower.
  auto line = [&](const std::vector<double>& d) {
    auto g = [&](double t) {
      std::vector<double> y = r.x;
      for (size_t j = 0; j < n; ++j) y[j] += t * d[j];
      ++r.evaluations;
      return f(y);
    };
    const auto [t, value] = GoldenSection(g, -options.step, options.step, r.value, options.line_search_evaluations);
    const double drop = r.value - value;
    if (drop > 0) {
      for (size_t j = 0; j < n; ++j) r.x[j] += t * d[j];
      r.value = value;
    }
    return std::max(drop, 0.0);
  };
  while (budget_left()) {
    ++r.sweeps;
    const std::vector<double> start = r.x;
    const double start_value = r.value;
    double biggest_drop = 0;
    size_t biggest = 0;
    for (size_t i = 0; i < n && budget_left(); ++i) {
      const double drop = line(directions[i]);
      if (drop > biggest_drop) biggest_drop = drop, biggest = i;
    }
    std::vector<double> displacement(n);
    double norm = 0;
    for (size_t j = 0; j < n; ++j) {
      displacement[j] = r.x[j] - start[j];
      norm += displacement[j] * displacement[j];
    }
    if (norm > 0 && budget_left()) {
      for (double& v : displacement) v /= std::sqrt(norm);
      line(displacement);
      directions[biggest] = displacement;
    }
    if (start_value - r.value <= options.tolerance * std::abs(start_value)) break;
  }
  return r;
}

LossAwareQuantization::LossAwareQuantization(std::vector<LapqWeight> weights,
                                             std::vector<LapqActivation> activations)
    : weights_(std::move(weights)), activations_(std::move(activations)) {
  for (const LapqWeight& w : weights_) {
    if (w.param == nullptr) throw std::invalid_argument("LAPQ: a weight without its parameter");
    const absl::Span<const float> values = w.param->value.flat();
    fp_weights_.emplace_back(values.begin(), values.end());
  }
  for (const LapqActivation& a : activations_) {
    if (a.quantizer == nullptr) throw std::invalid_argument("LAPQ: an activation without its quantizer");
    if (a.samples.empty()) {
      throw std::invalid_argument("LAPQ: activation quantizer '" + a.quantizer->name() + "' has no samples");
    }
  }
}

void LossAwareQuantization::Apply(const std::vector<double>& log_clips) const {
  size_t v = 0;
  for (size_t j = 0; j < weights_.size(); ++j, ++v) {
    const compression::GridPoint grid = ClipGrid(weights_[j].bits, false, static_cast<float>(std::exp(log_clips[v])));
    const std::vector<float>& fp = fp_weights_[j];
    float* out = weights_[j].param->value.flat().data();
    for (size_t i = 0; i < fp.size(); ++i) out[i] = grid(fp[i]);
  }
  for (const LapqActivation& a : activations_) a.quantizer->set_range(static_cast<float>(std::exp(log_clips[v++])));
}

void LossAwareQuantization::RestoreWeights() const {
  for (size_t j = 0; j < weights_.size(); ++j) weights_[j].param->value.CopyFromPlain(fp_weights_[j]);
}

LapqResult LossAwareQuantization::Run(const std::function<double()>& loss, const LapqOptions& options) {
  LapqResult result;
  // Log clips of the variables, weights first; a variable whose values are
  // all 0 keeps a clip of 1 (any grid holds 0 exactly).
  auto clips_of = [&](const std::function<double(absl::Span<const float>, int, bool)>& clip) {
    std::vector<double> log_clips;
    for (size_t j = 0; j < weights_.size(); ++j) {
      const double c = clip(fp_weights_[j], weights_[j].bits, false);
      log_clips.push_back(std::log(c > 0 ? c : 1.0));
    }
    for (const LapqActivation& a : activations_) {
      const double c = clip(a.samples, a.quantizer->bits(), true);
      log_clips.push_back(std::log(c > 0 ? c : 1.0));
    }
    return log_clips;
  };
  auto evaluate = [&](const std::vector<double>& log_clips) {
    Apply(log_clips);
    ++result.loss_evaluations;
    const double value = loss();
    return std::isfinite(value) ? value : std::numeric_limits<double>::max();
  };

  result.rounding_loss = evaluate(clips_of([](absl::Span<const float> x, int, bool unsigned_grid) {
    float top = 0;
    for (float v : x) top = std::max(top, unsigned_grid ? v : std::abs(v));
    return static_cast<double>(top);
  }));
  std::vector<double> start;
  result.lp_loss = std::numeric_limits<double>::max();
  for (double p : options.norms) {
    std::vector<double> log_clips = clips_of([p](absl::Span<const float> x, int bits, bool unsigned_grid) {
      return LpOptimalClip(x, bits, unsigned_grid, p);
    });
    const double value = evaluate(log_clips);
    if (value < result.lp_loss) {
      result.lp_loss = value;
      result.p = p;
      start = std::move(log_clips);
    }
  }
  const PowellResult powell = PowellMinimize(evaluate, start, options.powell);
  result.sweeps = powell.sweeps;
  result.final_loss = powell.value;
  Apply(powell.x);
  for (size_t v = 0; v < powell.x.size(); ++v) {
    (v < weights_.size() ? result.weight_clips : result.activation_clips).push_back(std::exp(powell.x[v]));
  }
  for (size_t j = 0; j < weights_.size(); ++j) {
    const absl::Span<const float> q = weights_[j].param->value.flat();
    double sum = 0;
    for (size_t i = 0; i < q.size(); ++i) sum += std::pow(static_cast<double>(q[i]) - fp_weights_[j][i], 2);
    result.weight_mse.push_back(sum / q.size());
  }
  return result;
}

}  // namespace psg::quant
