// Image: the engine's torch-free picture type, shared by image I/O, the
// engine's public interface, the scheduler's wire format and reports.
#pragma once

#include <cstddef>
#include <vector>

namespace stylesweep {

// An RGB picture, row-major, interleaved (HWC), each sample in [0, 1].
// `channels` is always 3 for images handed to or returned by the engine;
// loaders convert grayscale and drop alpha (see image_io.h).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<float> pixels;  // width * height * channels samples

  bool empty() const { return pixels.empty(); }
  std::size_t num_samples() const {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
           static_cast<std::size_t>(channels);
  }
  float& at(int y, int x, int c) {
    return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c];
  }
  float at(int y, int x, int c) const {
    return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c];
  }
};

}  // namespace stylesweep
