#ifndef PSG_DATA_AUGMENT_H_
#define PSG_DATA_AUGMENT_H_

// CIFAR-style augmentation of small uint8 CHW images into float CHW:
// training = reflect-pad, random crop back to the original size, horizontal
// flip with p = 0.5, per-channel normalization; evaluation = normalization
// only. Each call is a single pass from the source bytes into the caller's
// float buffer (typically a slot of a batch), with no allocation.
//
//   absl::StatusOr<CifarAugmenter> augmenter = CifarAugmenter::Create(3, 32, 32);
//   engine::Rng rng(seed);
//   augmenter->Train(images.image(i), rng, batch_images + k * 3 * 32 * 32);
//   augmenter->Eval(images.image(i), out);

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "data/normalization.h"
#include "engine/rng.h"

namespace psg::data {

class CifarAugmenter {
 public:
  struct Options {
    int pad = 4;  // reflect padding on each side; the crop moves by 0..2*pad
    bool horizontal_flip = true;
    Normalization normalization = Cifar10Normalization();
  };

  // Where the crop window sits in the padded image, and whether it is
  // mirrored afterwards.
  struct CropFlip {
    int top = 0;   // 0..2*pad
    int left = 0;  // 0..2*pad
    bool flip = false;
  };

  static absl::StatusOr<CifarAugmenter> Create(int channels, int height,
                                               int width,
                                               const Options& options);
  static absl::StatusOr<CifarAugmenter> Create(int channels, int height,
                                               int width) {
    return Create(channels, height, width, Options());
  }

  // Draws top, left, then flip from rng.
  CropFlip Draw(engine::Rng& rng) const;

  // src: channels*height*width bytes (CHW); dst: as many floats (CHW).
  void Apply(const uint8_t* src, const CropFlip& crop_flip, float* dst) const;
  void Train(const uint8_t* src, engine::Rng& rng, float* dst) const {
    Apply(src, Draw(rng), dst);
  }
  void Eval(const uint8_t* src, float* dst) const;

  int channels() const { return channels_; }
  int height() const { return height_; }
  int width() const { return width_; }

 private:
  CifarAugmenter() = default;

  int channels_ = 0, height_ = 0, width_ = 0, pad_ = 0;
  bool flip_ = false;
  // channels x 256: the normalized value of every byte value, so each output
  // pixel is one table lookup.
  std::vector<float> table_;
  // Source row offsets (row * width) for each top: (2*pad+1) x height.
  std::vector<int32_t> row_offsets_;
  // Source columns for each (flip, left): 2 x (2*pad+1) x width.
  std::vector<int32_t> columns_;
};

}  // namespace psg::data

#endif  // PSG_DATA_AUGMENT_H_
