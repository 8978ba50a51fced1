#include "data/augment.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace psg::data {
namespace {

// Mirror an out-of-range index back into [0, size) without repeating the
// edge pixel (numpy "reflect", torch ReflectionPad2d); needs |i| < size.
int Reflect(int i, int size) {
  if (i < 0) return -i;
  if (i >= size) return 2 * (size - 1) - i;
  return i;
}

}  // namespace

absl::StatusOr<CifarAugmenter> CifarAugmenter::Create(int channels,
                                                      int height, int width,
                                                      const Options& options) {
  if (channels < 1 || height < 1 || width < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "CifarAugmenter: bad image shape %dx%dx%d", channels, height, width));
  }
  if (options.pad < 0 || options.pad >= height || options.pad >= width) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "CifarAugmenter: reflect padding %d needs 0 <= pad < height (%d) and "
        "width (%d)",
        options.pad, height, width));
  }
  const Normalization& norm = options.normalization;
  if (static_cast<int>(norm.mean.size()) != channels ||
      static_cast<int>(norm.stddev.size()) != channels) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "CifarAugmenter: normalization has %d means and %d stddevs for %d "
        "channels",
        norm.mean.size(), norm.stddev.size(), channels));
  }
  CifarAugmenter a;
  a.channels_ = channels;
  a.height_ = height;
  a.width_ = width;
  a.pad_ = options.pad;
  a.flip_ = options.horizontal_flip;
  a.table_.resize(channels * 256);
  for (int c = 0; c < channels; ++c) {
    if (!(norm.stddev[c] > 0)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "CifarAugmenter: stddev[%d] = %g is not positive", c,
          norm.stddev[c]));
    }
    for (int v = 0; v < 256; ++v) {
      a.table_[c * 256 + v] = static_cast<float>(
          (v / 255.0 - norm.mean[c]) / static_cast<double>(norm.stddev[c]));
    }
  }
  const int positions = 2 * a.pad_ + 1;
  for (int top = 0; top < positions; ++top) {
    for (int y = 0; y < height; ++y) {
      a.row_offsets_.push_back(Reflect(top - a.pad_ + y, height) * width);
    }
  }
  for (int flip = 0; flip < 2; ++flip) {
    for (int left = 0; left < positions; ++left) {
      for (int x = 0; x < width; ++x) {
        const int padded_x = left + (flip ? width - 1 - x : x);
        a.columns_.push_back(Reflect(padded_x - a.pad_, width));
      }
    }
  }
  return a;
}

CifarAugmenter::CropFlip CifarAugmenter::Draw(engine::Rng& rng) const {
  CropFlip crop_flip;
  crop_flip.top = static_cast<int>(rng.UniformInt(2 * pad_ + 1));
  crop_flip.left = static_cast<int>(rng.UniformInt(2 * pad_ + 1));
  crop_flip.flip = flip_ && rng.Bernoulli();
  return crop_flip;
}

void CifarAugmenter::Apply(const uint8_t* src, const CropFlip& crop_flip,
                           float* dst) const {
  const int plane = height_ * width_;
  const int32_t* rows = row_offsets_.data() + crop_flip.top * height_;
  const int32_t* cols =
      columns_.data() +
      ((crop_flip.flip ? 2 * pad_ + 1 : 0) + crop_flip.left) * width_;
  for (int c = 0; c < channels_; ++c) {
    const float* table = table_.data() + c * 256;
    const uint8_t* in = src + c * plane;
    float* out = dst + c * plane;
    for (int y = 0; y < height_; ++y, out += width_) {
      const uint8_t* row = in + rows[y];
      for (int x = 0; x < width_; ++x) out[x] = table[row[cols[x]]];
    }
  }
}

void CifarAugmenter::Eval(const uint8_t* src, float* dst) const {
  const int plane = height_ * width_;
  for (int c = 0; c < channels_; ++c) {
    const float* table = table_.data() + c * 256;
    for (int i = 0; i < plane; ++i) dst[c * plane + i] = table[src[c * plane + i]];
  }
}

}  // namespace psg::data
