// Reads an image file's format and dimensions from its header, without
// decoding pixels: enough for a sweep to check, before anything runs, that
// every image exists and is a PNG or JPEG, and to estimate each job's cost.
#pragma once

#include <string>

#include "common/status.h"

namespace stylesweep {

struct ImageProbe {
  std::string format;  // "png" or "jpeg"
  int width = 0;       // px
  int height = 0;      // px
};

// kNotFound when the file does not exist, kIoError when it cannot be read,
// kCorrupt when it is neither a PNG nor a JPEG or its header is truncated;
// each message names the file.
Result<ImageProbe> ProbeImage(const std::string& path);

// True for the extensions a folder scan picks up: .png, .jpg, .jpeg (any case).
bool HasImageExtension(const std::string& path);

}  // namespace stylesweep
