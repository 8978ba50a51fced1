#include "engine/testing/gradient_check.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace psg::engine::testing {

std::vector<float> RandomVector(size_t size, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(size);
  for (float& e : v) e = dist(rng);
  return v;
}

Tensor RandomPlain(const Dims& dims, uint32_t seed, float lo, float hi) {
  Tensor t = Tensor::Plain(dims);
  t.CopyFromPlain(RandomVector(t.numel(), seed, lo, hi));
  return t;
}

Tensor DistinctPlain(const Dims& dims, uint32_t seed, float gap) {
  Tensor t = Tensor::Plain(dims);
  std::vector<float> v(t.numel());
  // Offset by half a gap so no value sits on the kink at zero.
  for (size_t i = 0; i < v.size(); ++i) v[i] = (static_cast<float>(i) - v.size() / 2.0f + 0.5f) * gap;
  std::shuffle(v.begin(), v.end(), std::mt19937(seed));
  t.CopyFromPlain(v);
  return t;
}

Tensor InLayout(const Tensor& t, dnnl::memory::format_tag tag, dnnl::memory::data_type type) {
  Tensor out(dnnl::memory::desc(t.dims(), type, tag));
  out.CopyFromPlain(t.ToPlain());
  return out;
}

void RandomizeParameters(Layer& layer, uint32_t seed) {
  ParameterList params;
  layer.CollectParameters(&params);
  for (Parameter* p : TrainableOnly(params)) {
    p->value.CopyFromPlain(RandomVector(p->value.numel(), seed++, -0.5f, 0.5f));
  }
}

namespace {

double Loss(Layer& layer, const Tensor& x, const std::vector<float>& upstream) {
  const std::vector<float> y = layer.Forward(x, Mode::kTrain).ToPlain();
  double loss = 0;
  for (size_t i = 0; i < y.size(); ++i) loss += double(y[i]) * upstream[i];
  return loss;
}

// Indices to probe: all of them for small tensors, else an even sample.
std::vector<int64_t> SampleIndices(int64_t size, int max_count, std::mt19937& rng) {
  std::vector<int64_t> all(size);
  std::iota(all.begin(), all.end(), 0);
  if (size <= max_count) return all;
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(max_count);
  return all;
}

void CompareOne(Layer& layer, const Tensor& x, const std::vector<float>& upstream, float* value,
                float analytic, const GradientCheckOptions& o, const std::string& what) {
  const float saved = *value;
  *value = saved + o.epsilon;
  const double plus = Loss(layer, x, upstream);
  *value = saved - o.epsilon;
  const double minus = Loss(layer, x, upstream);
  *value = saved;
  const double numeric = (plus - minus) / (2.0 * o.epsilon);
  EXPECT_NEAR(analytic, numeric, o.absolute_tolerance + o.relative_tolerance * std::abs(numeric))
      << what;
}

}  // namespace

void ExpectGradientsMatch(Layer& layer, const Tensor& x, const GradientCheckOptions& o) {
  ASSERT_TRUE(x.is_plain()) << "gradient check perturbs a plain input";
  std::mt19937 rng(o.seed);
  const Dims out_dims = layer.Forward(x, Mode::kTrain).dims();
  const std::vector<float> upstream = RandomVector(Product(out_dims), o.seed + 1);
  Tensor dy = Tensor::Plain(out_dims);
  dy.CopyFromPlain(upstream);

  layer.Forward(x, Mode::kTrain);
  const std::vector<float> dx = o.check_input ? layer.Backward(dy).ToPlain() : std::vector<float>();
  if (!o.check_input) layer.Backward(dy);
  ParameterList params;
  layer.CollectParameters(&params);
  params = TrainableOnly(params);
  std::vector<std::vector<float>> grads;
  for (Parameter* p : params) grads.push_back(p->grad.ToPlain());

  if (o.check_input) {
    for (int64_t i : SampleIndices(x.numel(), o.max_elements_per_tensor, rng)) {
      CompareOne(layer, x, upstream, &x.flat()[i], dx[i], o,
                 layer.name() + " input element " + std::to_string(i));
    }
  }
  for (size_t k = 0; k < params.size(); ++k) {
    Parameter& p = *params[k];
    for (int64_t i : SampleIndices(p.value.numel(), o.max_elements_per_tensor, rng)) {
      CompareOne(layer, x, upstream, &p.value.flat()[i], grads[k][i], o,
                 p.name + " element " + std::to_string(i));
    }
  }
}

}  // namespace psg::engine::testing
