// Thumbnails for reports: an image file shrunk and embedded as a data URI.
#pragma once

#include <string>

#include "common/status.h"

namespace stylesweep {

// Reads the JPEG or PNG at `path`, shrinks it so its longest side is at most
// `longest_px` (never enlarges; antialiased), and returns
// "data:image/jpeg;base64,..." at JPEG `quality` (1-100). Also returns the
// thumbnail's size. Errors: those of LoadImage (kNotFound, kCorrupt,
// kInvalidArgument), naming the file.
struct Thumbnail {
  std::string data_uri;
  int width = 0;   // px
  int height = 0;  // px
};
Result<Thumbnail> MakeThumbnail(const std::string& path, int longest_px, int quality);

// Standard base64 (RFC 4648) with padding.
std::string Base64Encode(const std::string& bytes);

}  // namespace stylesweep
