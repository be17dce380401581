// Colour preservation from Gatys et al., "Controlling Perceptual Factors in
// Neural Style Transfer" (CVPR 2017). Engine-internal (LibTorch).
// All images are [1, 3, H, W] RGB pixels on the 0..255 scale.
#pragma once

#include <torch/types.h>

namespace stylesweep {

// Colour histogram matching: returns `style` recoloured so its mean and
// covariance equal the content's: x' = A (x - mu_S) + mu_C with
// A = Sigma_C^{1/2} Sigma_S^{-1/2} (symmetric square roots).
torch::Tensor MatchColorHistogram(const torch::Tensor& style, const torch::Tensor& content);

// The YIQ luminance of `rgb`, replicated to three channels (a grey image the
// network can read).
torch::Tensor LuminanceImage(const torch::Tensor& rgb);

// Luminance-only transfer, step 1: the style's luminance (three grey
// channels) shifted and scaled to the content luminance's mean and std.
torch::Tensor MatchLuminance(const torch::Tensor& style_luminance, const torch::Tensor& content_luminance);

// Luminance-only transfer, step 2: the output's luminance with the content's
// I and Q chroma channels, back in RGB.
torch::Tensor CombineLuminanceWithContentColor(const torch::Tensor& output, const torch::Tensor& content);

}  // namespace stylesweep
