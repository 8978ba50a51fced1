#include "data/image_transforms.h"

#include <algorithm>
#include <cmath>

namespace psg::data {
namespace {

// Python's round(): halves to even (the default floating-point rounding mode).
int RoundHalfEven(double v) { return static_cast<int>(std::nearbyint(v)); }

}  // namespace

ResampleRegion RandomResizedCropRegion(int width, int height, engine::Rng& rng,
                                       const RandomResizedCropOptions& options) {
  const double area = static_cast<double>(width) * height;
  const double log_min_ratio = std::log(options.min_ratio);
  const double log_max_ratio = std::log(options.max_ratio);
  PixelRect crop;
  bool found = false;
  for (int attempt = 0; attempt < options.attempts && !found; ++attempt) {
    const double target_area =
        area * rng.Uniform(options.min_scale, options.max_scale);
    const double ratio = std::exp(rng.Uniform(log_min_ratio, log_max_ratio));
    const int w = RoundHalfEven(std::sqrt(target_area * ratio));
    const int h = RoundHalfEven(std::sqrt(target_area / ratio));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      crop.y = static_cast<int>(rng.UniformInt(height - h + 1));
      crop.x = static_cast<int>(rng.UniformInt(width - w + 1));
      crop.width = w;
      crop.height = h;
      found = true;
    }
  }
  if (!found) {  // the largest centered crop within the ratio range
    const double image_ratio = static_cast<double>(width) / height;
    crop.width = width;
    crop.height = height;
    if (image_ratio < options.min_ratio) {
      crop.height = RoundHalfEven(width / options.min_ratio);
    } else if (image_ratio > options.max_ratio) {
      crop.width = RoundHalfEven(height * options.max_ratio);
    }
    crop.y = (height - crop.height) / 2;
    crop.x = (width - crop.width) / 2;
  }
  // torchvision crops first, so the resize filter sees only the crop.
  return {static_cast<double>(crop.x), static_cast<double>(crop.y),
          static_cast<double>(crop.width), static_cast<double>(crop.height),
          crop};
}

ResampleRegion ResizeCenterCropRegion(int width, int height,
                                      int resize_shorter, int crop) {
  // torchvision Resize(int): the longer side becomes
  // int(resize * long / short), truncated.
  int resized_w = resize_shorter, resized_h = resize_shorter;
  if (width <= height) {
    resized_h = static_cast<int>(static_cast<int64_t>(resize_shorter) * height / width);
  } else {
    resized_w = static_cast<int>(static_cast<int64_t>(resize_shorter) * width / height);
  }
  // torchvision CenterCrop: int(round((size - crop) / 2)).
  const int top = RoundHalfEven((resized_h - crop) / 2.0);
  const int left = RoundHalfEven((resized_w - crop) / 2.0);
  const double scale_x = static_cast<double>(width) / resized_w;
  const double scale_y = static_cast<double>(height) / resized_h;
  return {left * scale_x, top * scale_y, crop * scale_x, crop * scale_y,
          PixelRect{0, 0, width, height}};
}

int DctScaleFor(const ResampleRegion& region, int out_width, int out_height) {
  // Only 1/8, 1/4 and 1/2: libjpeg-turbo has fast (SIMD) reduced inverse DCTs
  // for these; its 3/8 .. 7/8 ones are plain C and decode slower than the full
  // size (docs/measurements.md).
  for (int m : {1, 2, 4}) {
    if (region.width * m / 8 >= out_width && region.height * m / 8 >= out_height) return m;
  }
  return 8;
}

ResampleRegion ScaledRegion(const ResampleRegion& region, const RgbImage& image) {
  const double f = image.scale_eighths / 8.0;
  const PixelRect& b = region.bounds;
  const int x0 = static_cast<int>(std::floor(b.x * f));
  const int y0 = static_cast<int>(std::floor(b.y * f));
  const int x1 = std::min(static_cast<int>(std::ceil((b.x + b.width) * f)), image.width);
  const int y1 = std::min(static_cast<int>(std::ceil((b.y + b.height) * f)), image.height);
  return {region.x * f, region.y * f, region.width * f, region.height * f,
          PixelRect{x0, y0, x1 - x0, y1 - y0}};
}

// PIL's precompute_coeffs with the bilinear (triangle) filter.
void Resampler::Precompute(double start, double size, int out_size,
                           int bound_lo, int bound_hi, Filter& filter) {
  const double scale = size / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_scale;  // the triangle's support is 1
  filter.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  filter.first.resize(out_size);
  filter.weights.assign(static_cast<size_t>(out_size) * filter.taps, 0.0f);
  for (int i = 0; i < out_size; ++i) {
    const double center = start + (i + 0.5) * scale;
    const int lo = std::max(static_cast<int>(center - support + 0.5), bound_lo);
    const int hi = std::min(static_cast<int>(center + support + 0.5), bound_hi);
    float* w = &filter.weights[static_cast<size_t>(i) * filter.taps];
    double total = 0;
    for (int x = lo; x < hi; ++x) {
      const double t = std::abs((x - center + 0.5) / filter_scale);
      total += std::max(0.0, 1.0 - t);
    }
    for (int x = lo; x < hi; ++x) {
      const double t = std::abs((x - center + 0.5) / filter_scale);
      w[x - lo] = total > 0 ? static_cast<float>(std::max(0.0, 1.0 - t) / total)
                            : 0.0f;
    }
    filter.first[i] = lo;
  }
}

void Resampler::Run(const RgbImage& image, const ResampleRegion& region,
                    int out_width, int out_height, bool flip,
                    const Normalization& normalization, float* dst) {
  const PixelRect& b = region.bounds;
  Precompute(region.x, region.width, out_width, b.x, b.x + b.width,
             horizontal_);
  Precompute(region.y, region.height, out_height, b.y, b.y + b.height,
             vertical_);

  // Horizontal pass over the source rows the vertical filter will read.
  const int row_lo = vertical_.first.front();
  const int row_hi = std::min(vertical_.first.back() + vertical_.taps,
                              b.y + b.height);
  const int row_floats = out_width * 3;
  rows_.resize(static_cast<size_t>(row_hi - row_lo) * row_floats);
  for (int y = row_lo; y < row_hi; ++y) {
    const uint8_t* src = image.pixels.data() + static_cast<size_t>(y) * image.width * 3;
    float* out = rows_.data() + static_cast<size_t>(y - row_lo) * row_floats;
    for (int x = 0; x < out_width; ++x) {
      const float* w = &horizontal_.weights[static_cast<size_t>(x) * horizontal_.taps];
      const uint8_t* p = src + horizontal_.first[x] * 3;
      const int taps = std::min(horizontal_.taps,
                                b.x + b.width - horizontal_.first[x]);
      float r = 0, g = 0, bl = 0;
      for (int k = 0; k < taps; ++k) {
        r += w[k] * p[3 * k];
        g += w[k] * p[3 * k + 1];
        bl += w[k] * p[3 * k + 2];
      }
      out[3 * x] = r;
      out[3 * x + 1] = g;
      out[3 * x + 2] = bl;
    }
  }

  // Vertical pass, then normalization into CHW planes.
  float scale[3], bias[3];
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / (255.0f * normalization.stddev[c]);
    bias[c] = -normalization.mean[c] / normalization.stddev[c];
  }
  const size_t plane = static_cast<size_t>(out_width) * out_height;
  row_.resize(row_floats);
  for (int y = 0; y < out_height; ++y) {
    const float* w = &vertical_.weights[static_cast<size_t>(y) * vertical_.taps];
    const int first = vertical_.first[y];
    const int taps = std::min(vertical_.taps, row_hi - first);
    std::fill(row_.begin(), row_.end(), 0.0f);
    for (int k = 0; k < taps; ++k) {
      const float* in = rows_.data() + static_cast<size_t>(first + k - row_lo) * row_floats;
      const float wk = w[k];
      for (int i = 0; i < row_floats; ++i) row_[i] += wk * in[i];
    }
    for (int c = 0; c < 3; ++c) {
      float* out = dst + c * plane + static_cast<size_t>(y) * out_width;
      for (int x = 0; x < out_width; ++x) {
        const int from = flip ? out_width - 1 - x : x;
        out[x] = row_[3 * from + c] * scale[c] + bias[c];
      }
    }
  }
}

}  // namespace psg::data
