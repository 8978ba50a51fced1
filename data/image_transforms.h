#ifndef PSG_DATA_IMAGE_TRANSFORMS_H_
#define PSG_DATA_IMAGE_TRANSFORMS_H_

// ImageNet-style crops and resizing of decoded RGB images into normalized
// float CHW, matching torchvision:
//   training:   RandomResizedCrop(224) + RandomHorizontalFlip
//   evaluation: Resize(256) + CenterCrop(224)
// Resizing is bilinear with antialiasing (a triangle filter widened by the
// downscale factor, as PIL and torchvision >= 0.17 do), so large downscales
// do not alias.
//
//   Resampler resampler;  // one per thread; reuses its buffers
//   ResampleRegion region = RandomResizedCropRegion(image.width, image.height, rng);
//   resampler.Run(image, region, 224, 224, /*flip=*/rng.Bernoulli(),
//                 ImageNetNormalization(), dst);  // 3*224*224 floats
//
//   region = ResizeCenterCropRegion(image.width, image.height, 256, 224);
//
// With DCT-domain downscaling (jpeg_decoder.h) the region is chosen on the
// stored size, the JPEG decoded at DctScaleFor(region, 224, 224) / 8, and the
// region mapped onto the smaller image with ScaledRegion before Run.

#include <cstdint>
#include <vector>

#include "data/jpeg_decoder.h"
#include "data/normalization.h"
#include "engine/rng.h"

namespace psg::data {

struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
};

// The output covers [x, x + width) x [y, y + height) of the source image in
// pixel units (fractional when it is a crop of a resized image); the filter
// reads only source pixels inside `bounds`.
struct ResampleRegion {
  double x = 0, y = 0, width = 0, height = 0;
  PixelRect bounds;
};

struct RandomResizedCropOptions {
  double min_scale = 0.08, max_scale = 1.0;  // fraction of the image area
  double min_ratio = 3.0 / 4.0, max_ratio = 4.0 / 3.0;  // width / height
  int attempts = 10;  // before falling back to a center crop
};

// torchvision RandomResizedCrop.get_params: the crop that is then resized.
ResampleRegion RandomResizedCropRegion(
    int width, int height, engine::Rng& rng,
    const RandomResizedCropOptions& options = RandomResizedCropOptions());

// torchvision Resize(resize_shorter) then CenterCrop(crop), as the region of
// the original image that the crop shows. Needs crop <= resize_shorter.
ResampleRegion ResizeCenterCropRegion(int width, int height,
                                      int resize_shorter, int crop);

// The smallest DCT scale M of 1, 2, 4 and 8 (eighths) at which `region` still
// spans at least out_width x out_height pixels, so the resampler after it still
// only shrinks (a region smaller than the output is enlarged from the full
// size: 8).
int DctScaleFor(const ResampleRegion& region, int out_width, int out_height);

// `region` of the stored image, in the pixel coordinates of `image` as it was
// decoded (at image.scale_eighths / 8; bounds rounded outwards, clipped to
// the decoded size).
ResampleRegion ScaledRegion(const ResampleRegion& region, const RgbImage& image);

class Resampler {
 public:
  // Resamples `region` of `image` to out_width x out_height, mirrors it left
  // to right if `flip`, normalizes it (3 channels) and writes float CHW to
  // dst (3 * out_height * out_width floats).
  void Run(const RgbImage& image, const ResampleRegion& region, int out_width,
           int out_height, bool flip, const Normalization& normalization,
           float* dst);

 private:
  // For each output coordinate: the first source pixel and `taps` weights.
  struct Filter {
    int taps = 0;
    std::vector<int> first;
    std::vector<float> weights;  // out_size * taps, zero padded
  };
  static void Precompute(double start, double size, int out_size, int bound_lo,
                         int bound_hi, Filter& filter);

  Filter horizontal_, vertical_;
  std::vector<float> rows_;  // horizontally resampled source rows, RGB
  std::vector<float> row_;   // one output row, RGB
};

}  // namespace psg::data

#endif  // PSG_DATA_IMAGE_TRANSFORMS_H_
