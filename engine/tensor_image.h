// Conversions between Image (RGB [0,1], HWC) and LibTorch tensors, and
// between pixels and a backbone's input convention. Engine-internal: includes
// LibTorch, so only engine/ sources, engine tests and benchmarks include it.
#pragma once

#include <torch/types.h>

#include "engine/backbone_spec.h"
#include "engine/image.h"

namespace stylesweep {

// The engine optimises pixels as a [1, 3, H, W] RGB tensor on the 0..255
// scale (the scale total variation and Adam's step size are quoted on).
inline constexpr double kPixelScale = 255.0;

// Image -> [1, 3, H, W] float32 RGB tensor on the 0..255 scale, on the CPU.
torch::Tensor ImageToPixels(const Image& image);

// [1, 3, H, W] pixels on the 0..255 scale (any device/dtype) -> Image,
// clamped to [0, 1].
Image PixelsToImage(const torch::Tensor& pixels);

// Pixels (RGB, 0..255) -> the network's input under `input`
// (channel order, scale, mean, std). Differentiable. The per-channel
// constants live on the pixels' device: they are made once per (device,
// dtype, convention) and kept for the life of the process, so that calls
// after the first copy nothing from the host. Thread-safe.
torch::Tensor PixelsToNetworkInput(const torch::Tensor& pixels, const InputConvention& input);

// Resizes [1, 3, H, W] pixels to height x width with antialiased bicubic
// interpolation (used to carry a coarse stage's result to the next stage).
torch::Tensor ResizePixels(const torch::Tensor& pixels, int height, int width);

}  // namespace stylesweep
