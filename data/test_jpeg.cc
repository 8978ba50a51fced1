#include "data/test_jpeg.h"

#include <cstdio>
#include <cstdlib>

#include <jpeglib.h>

namespace psg::data {

std::vector<uint8_t> EncodeTestJpeg(const std::vector<uint8_t>& pixels,
                                    int width, int height, TestJpegColor color,
                                    int quality) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);  // a test may exit() on encoder errors
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  const bool cmyk = color != TestJpegColor::kRgb && color != TestJpegColor::kGray;
  cinfo.input_components = cmyk ? 4 : color == TestJpegColor::kGray ? 1 : 3;
  cinfo.in_color_space =
      cmyk ? JCS_CMYK : color == TestJpegColor::kGray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  if (color == TestJpegColor::kAdobeYcck) jpeg_set_colorspace(&cinfo, JCS_YCCK);
  if (color == TestJpegColor::kPlainCmyk) cinfo.write_Adobe_marker = FALSE;
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const int stride = width * cinfo.input_components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) +
                   static_cast<size_t>(cinfo.next_scanline) * stride;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> jpeg(buffer, buffer + size);
  std::free(buffer);
  return jpeg;
}

}  // namespace psg::data
