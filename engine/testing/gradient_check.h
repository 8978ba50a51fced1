// Central finite-difference checks of a layer's Backward. With a fixed random
// upstream gradient r, the scalar L(x, params) = sum(Forward(x) * r) has
// dL/dx = Backward(r) and dL/dparam = param.grad; each is compared with
// (L(v + eps) - L(v - eps)) / (2 eps) on a sample of elements.
//
//   Tensor x = testing::RandomPlain({2, 3, 5, 5}, /*seed=*/1);
//   testing::ExpectGradientsMatch(conv, x, {});
#ifndef PSG_ENGINE_TESTING_GRADIENT_CHECK_H_
#define PSG_ENGINE_TESTING_GRADIENT_CHECK_H_

#include <cstdint>
#include <vector>

#include "engine/layer.h"

namespace psg::engine::testing {

// Uniform values in [lo, hi) from a fixed seed, in a plain tensor.
Tensor RandomPlain(const Dims& dims, uint32_t seed, float lo = -1.0f, float hi = 1.0f);
std::vector<float> RandomVector(size_t size, uint32_t seed, float lo = -1.0f, float hi = 1.0f);
// Values spaced at least `gap` apart (a shuffled ramp), for kinks such as max
// pooling and ReLU that a finite difference must not cross.
Tensor DistinctPlain(const Dims& dims, uint32_t seed, float gap = 0.05f);
// A copy of `t` in another layout, e.g. format_tag::nChw16c, and data type
// (bf16: the values rounded to nearest even).
Tensor InLayout(const Tensor& t, dnnl::memory::format_tag tag,
                dnnl::memory::data_type type = dnnl::memory::data_type::f32);
// Fills every trainable parameter of `layer` with random values.
void RandomizeParameters(Layer& layer, uint32_t seed);

struct GradientCheckOptions {
  float epsilon = 1e-2f;
  double absolute_tolerance = 5e-3;
  double relative_tolerance = 1e-2;
  int max_elements_per_tensor = 48;
  bool check_input = true;
  uint32_t seed = 7;
};

void ExpectGradientsMatch(Layer& layer, const Tensor& x, const GradientCheckOptions& options);

}  // namespace psg::engine::testing

#endif  // PSG_ENGINE_TESTING_GRADIENT_CHECK_H_
