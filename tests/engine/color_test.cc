// Colour preservation (engine/color.h): histogram matching moves the style's
// mean and covariance onto the content's; the luminance functions keep the
// content's chroma and round-trip.
#include "engine/color.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stylesweep {
namespace {

// [1, 3, H, W] -> (mean [3], covariance [3, 3]) in float64.
std::pair<torch::Tensor, torch::Tensor> Moments(const torch::Tensor& image) {
  auto c = image.reshape({3, -1}).to(torch::kFloat64);
  auto mean = c.mean(1, true);
  auto centered = c - mean;
  return {mean.squeeze(1), centered.mm(centered.t()) / c.size(1)};
}

// Random colours with a structure, kept well inside 0..255 so clamping does
// not change the statistics.
torch::Tensor RandomImage(std::uint64_t seed, double base, double spread) {
  torch::manual_seed(seed);
  auto mix = torch::rand({3, 3}, torch::kFloat64) + torch::eye(3, torch::kFloat64);
  auto noise = torch::randn({3, 32 * 24}, torch::kFloat64);
  auto pixels = mix.mm(noise) * spread + base;
  return pixels.view({1, 3, 32, 24}).to(torch::kFloat32);
}

TEST(MatchColorHistogram, StyleTakesTheContentsMeanAndCovariance) {
  auto content = RandomImage(1, 120, 8);
  auto style = RandomImage(2, 90, 20);
  auto matched = MatchColorHistogram(style, content);
  ASSERT_EQ(matched.sizes(), style.sizes());
  ASSERT_GE(matched.min().item<float>(), 0.0f);
  auto [mu_c, cov_c] = Moments(content);
  auto [mu_m, cov_m] = Moments(matched);
  EXPECT_TRUE(torch::allclose(mu_m, mu_c, 1e-3, 0)) << mu_m << mu_c;
  EXPECT_LT(((cov_m - cov_c).abs().max() / cov_c.abs().max()).item<double>(), 1e-3) << cov_m << cov_c;
  // It is a recolouring, not a copy: the style's structure survives.
  EXPECT_FALSE(torch::allclose(matched, content, 1e-2, 1.0));
}

TEST(LuminanceImage, IsGreyWithYiqWeights) {
  auto rgb = torch::tensor({255.0f, 0.0f, 0.0f}).view({1, 3, 1, 1});
  auto y = LuminanceImage(rgb);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{1, 3, 1, 1}));
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(y[0][c][0][0].item<float>(), 0.299f * 255, 1e-3);
}

TEST(MatchLuminance, TakesTheContentLuminancesMeanAndStd) {
  auto style = LuminanceImage(RandomImage(3, 80, 15));
  auto content = LuminanceImage(RandomImage(4, 140, 8));
  auto matched = MatchLuminance(style, content);
  EXPECT_NEAR(matched.mean().item<double>(), content.mean().item<double>(), 1e-3 * 140);
  EXPECT_NEAR(matched.std().item<double>(), content.std().item<double>(), 1e-3 * content.std().item<double>());
}

TEST(CombineLuminanceWithContentColor, RoundTripsTheContentItself) {
  // The content's own luminance with the content's chroma is the content.
  auto content = RandomImage(5, 128, 10);
  auto combined = CombineLuminanceWithContentColor(LuminanceImage(content), content);
  EXPECT_TRUE(torch::allclose(combined, content, 0, 1e-3)) << (combined - content).abs().max();
}

TEST(CombineLuminanceWithContentColor, KeepsTheOutputsLuminanceAndTheContentsChroma) {
  auto content = RandomImage(6, 128, 10);
  auto output = RandomImage(7, 120, 8);
  auto combined = CombineLuminanceWithContentColor(output, content);
  // Same luminance as the output.
  EXPECT_TRUE(torch::allclose(LuminanceImage(combined), LuminanceImage(output), 0, 1e-3));
  // Chroma (RGB minus luminance) equal to the content's.
  EXPECT_TRUE(torch::allclose(combined - LuminanceImage(combined), content - LuminanceImage(content), 0, 1e-3));
}

TEST(CombineLuminanceWithContentColor, ResizesTheContentToTheOutput) {
  auto content = RandomImage(8, 128, 10);  // 32x24
  auto output = torch::full({1, 3, 16, 12}, 100.0f);
  auto combined = CombineLuminanceWithContentColor(output, content);
  EXPECT_EQ(combined.sizes(), output.sizes());
}

}  // namespace
}  // namespace stylesweep
