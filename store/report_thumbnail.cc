#include "store/report_thumbnail.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/image_io.h"

// The JPEG writer is compiled here, static to this file (image_io.cc owns
// stb_image and stb_image_resize). Unused static writers (PNG, BMP, TGA, HDR)
// are reported at the end of the file, so that warning stays off for it.
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace stylesweep {
namespace {

void AppendBytes(void* context, void* data, int size) {
  auto* out = static_cast<std::string*>(context);
  out->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

std::string Base64Encode(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<Thumbnail> MakeThumbnail(const std::string& path, int longest_px, int quality) {
  SS_ASSIGN_OR_RETURN(Image image, LoadImage(path));
  if (std::max(image.width, image.height) > longest_px) {
    SS_ASSIGN_OR_RETURN(image, ResizeLongestSide(image, longest_px, "triangle"));
  }
  std::vector<uint8_t> rgb(image.num_samples());
  for (size_t i = 0; i < rgb.size(); ++i) {
    rgb[i] = static_cast<uint8_t>(std::lround(std::clamp(image.pixels[i], 0.0f, 1.0f) * 255.0f));
  }
  std::string jpeg;
  if (stbi_write_jpg_to_func(AppendBytes, &jpeg, image.width, image.height, image.channels, rgb.data(),
                             std::clamp(quality, 1, 100)) == 0) {
    return Status::Internal("cannot encode a thumbnail of " + path + " as JPEG");
  }
  return Thumbnail{"data:image/jpeg;base64," + Base64Encode(jpeg), image.width, image.height};
}

}  // namespace stylesweep
