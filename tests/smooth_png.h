// WriteSmoothPng: a smooth, seeded test picture saved as a PNG, with detail
// at every channel so style losses are not zero. Shared by the test folders
// that run the real binary on generated images.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "engine/image.h"
#include "engine/image_io.h"

namespace stylesweep::testing {

inline void WriteSmoothPng(const std::string& path, int width, int height, int seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(image.num_samples());
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image.at(y, x, c) = 0.5f + 0.5f * static_cast<float>(std::sin(0.3 * (x + 1) * (c + seed) + 0.7 * y * seed));
  ASSERT_TRUE(SavePng(image, path).ok()) << path;
}

}  // namespace stylesweep::testing
