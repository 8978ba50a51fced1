#include "data/jpeg_decoder.h"

#include <sys/stat.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <memory>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
#include <jerror.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace psg::data {
namespace {

// Far above any real photo (ImageNet's largest is ~16 Mpixel); stops a corrupt
// header from requesting gigabytes.
constexpr int64_t kMaxPixels = int64_t{1} << 28;

// libjpeg reports fatal errors through error_exit, which must not return:
// jump back to DecodeJpeg instead of the default exit().
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void JumpOnError(j_common_ptr cinfo) {
  ErrorManager* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (msg_level < 0) are recoverable corruption; libjpeg-turbo patches
// the data and goes on. A premature end of data is the exception: the missing
// rows would be filled with gray, so a truncated file is an error.
void OnMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    JumpOnError(cinfo);
  }
  if (msg_level < 0) ++cinfo->err->num_warnings;
}

// CMYK samples to RGB. Adobe (Photoshop) files store inverted inks
// (255 = no ink), the common case; others store plain inks.
void CmykRowToRgb(const uint8_t* cmyk, int width, bool inverted,
                  uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    int k = cmyk[3];
    if (!inverted) k = 255 - k;
    for (int c = 0; c < 3; ++c) {
      const int ink = inverted ? cmyk[c] : 255 - cmyk[c];
      rgb[c] = static_cast<uint8_t>((ink * k + 127) / 255);
    }
  }
}

// Everything between setjmp and a possible longjmp lives in this function and
// has trivial destructors, so the jump skips no C++ cleanup.
bool DecodeOrJump(jpeg_decompress_struct& cinfo, ErrorManager& errors,
                  absl::Span<const uint8_t> jpeg, DctScaleChooser choose,
                  RgbImage& image) {
  if (setjmp(errors.jump)) return false;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, jpeg.data(), jpeg.size());
  jpeg_read_header(&cinfo, TRUE);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK ||
                    cinfo.jpeg_color_space == JCS_YCCK;
  // libjpeg-turbo converts grayscale and YCbCr to RGB itself.
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  if (int64_t{cinfo.image_width} * cinfo.image_height > kMaxPixels) {
    std::snprintf(errors.message, sizeof(errors.message),
                  "image of %ux%u pixels is too large", cinfo.image_width,
                  cinfo.image_height);
    return false;
  }
  const int scale = choose(static_cast<int>(cinfo.image_width),
                           static_cast<int>(cinfo.image_height));
  if (scale < 1 || scale > 8) {
    std::snprintf(errors.message, sizeof(errors.message),
                  "DCT scale %d/8 is outside 1/8..8/8", scale);
    return false;
  }
  cinfo.scale_num = static_cast<unsigned int>(scale);
  cinfo.scale_denom = 8;
  image.source_width = static_cast<int>(cinfo.image_width);
  image.source_height = static_cast<int>(cinfo.image_height);
  image.scale_eighths = scale;
  jpeg_start_decompress(&cinfo);
  const int width = static_cast<int>(cinfo.output_width);
  const int height = static_cast<int>(cinfo.output_height);
  image.width = width;
  image.height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  // Freed by jpeg_destroy_decompress, also after a jump.
  JSAMPARRAY cmyk_row =
      cmyk ? (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo),
                                        JPOOL_IMAGE, width * 4, 1)
           : nullptr;
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* rgb =
        image.pixels.data() + static_cast<size_t>(cinfo.output_scanline) * width * 3;
    if (cmyk) {
      jpeg_read_scanlines(&cinfo, cmyk_row, 1);
      CmykRowToRgb(cmyk_row[0], width, cinfo.saw_Adobe_marker, rgb);
    } else {
      JSAMPROW row = rgb;
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

}  // namespace

absl::Status DecodeJpeg(absl::Span<const uint8_t> jpeg, absl::string_view name,
                        RgbImage& image) {
  return DecodeJpeg(jpeg, name, image, [](int, int) { return 8; });
}

absl::Status DecodeJpeg(absl::Span<const uint8_t> jpeg, absl::string_view name,
                        RgbImage& image, DctScaleChooser choose) {
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  cinfo.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = JumpOnError;
  errors.base.emit_message = OnMessage;
  errors.message[0] = '\0';
  const bool ok = DecodeOrJump(cinfo, errors, jpeg, choose, image);
  jpeg_destroy_decompress(&cinfo);
  if (!ok) {
    return absl::DataLossError(absl::StrCat(
        "JPEG ", name, " (", jpeg.size(), " bytes): ", errors.message));
  }
  return absl::OkStatus();
}

absl::Status DecodeJpegFile(const std::string& path,
                            std::vector<uint8_t>& file_bytes, RgbImage& image) {
  return DecodeJpegFile(path, file_bytes, image, [](int, int) { return 8; });
}

absl::Status DecodeJpegFile(const std::string& path,
                            std::vector<uint8_t>& file_bytes, RgbImage& image,
                            DctScaleChooser choose) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
      std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("JPEG ", path, ": cannot open"));
  }
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("JPEG ", path, ": cannot stat"));
  }
  file_bytes.resize(info.st_size);
  const size_t read = std::fread(file_bytes.data(), 1, file_bytes.size(), file.get());
  if (read != file_bytes.size()) {
    return absl::DataLossError(absl::StrFormat("JPEG %s: read only %d of %d bytes",
                                               path, read, file_bytes.size()));
  }
  return DecodeJpeg(file_bytes, path, image, choose);
}

}  // namespace psg::data
