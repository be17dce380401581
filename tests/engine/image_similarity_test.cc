// SSIM and colour-histogram distances against values derived by hand.
#include "engine/image_similarity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace stylesweep {
namespace {

constexpr double kC1 = 0.01 * 0.01;
constexpr double kC2 = 0.03 * 0.03;

// A grey picture (R = G = B, so luminance equals the value) from f(row, col).
template <typename Fn>
Image Grey(int width, int height, Fn value) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(image.num_samples());
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      for (int k = 0; k < 3; ++k) image.at(r, c, k) = static_cast<float>(value(r, c));
    }
  }
  return image;
}

Image Noise(int width, int height, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(image.num_samples());
  for (float& v : image.pixels) v = uniform(random);
  return image;
}

TEST(Ssim, IsOneForEqualImagesAndBelowOneOtherwise) {
  const Image a = Noise(40, 30, 1), b = Noise(40, 30, 2);
  EXPECT_NEAR(*Ssim(a, a), 1.0, 1e-12);
  EXPECT_LT(*Ssim(a, b), 0.5);
  Image c = a;
  c.at(10, 10, 1) += 0.2f;  // one sample changed
  EXPECT_LT(*Ssim(a, c), 1.0 - 1e-6);
}

TEST(Ssim, IsSymmetric) {
  const Image a = Noise(33, 27, 3), b = Noise(33, 27, 4);
  EXPECT_DOUBLE_EQ(*Ssim(a, b), *Ssim(b, a));
}

// Constant images a and b: every window has mean a (b), no variance and no
// covariance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1) * C2 / C2.
TEST(Ssim, ConstantImagesMatchTheFormula) {
  const Image a = Grey(20, 16, [](int, int) { return 0.5; });
  const Image b = Grey(20, 16, [](int, int) { return 0.6; });
  const double expected = (2 * 0.5 * 0.6 + kC1) / (0.25 + 0.36 + kC1);
  EXPECT_NEAR(*Ssim(a, b), expected, 1e-6);  // the pixels are float32
}

// A horizontal ramp x = 0.2 + 0.01 col and y = x + 0.1: the symmetric window's
// mean is the centre value m, both variances equal the covariance (so the
// structure factor is 1), and each window scores
// (2 m (m + 0.1) + C1) / (m^2 + (m + 0.1)^2 + C1). Windows are centred on
// columns 5 .. width - 6.
TEST(Ssim, ConstantShiftOfARampMatchesTheLuminanceFactor) {
  const int width = 40, height = 14;
  const Image x = Grey(width, height, [](int, int col) { return 0.2 + 0.01 * col; });
  const Image y = Grey(width, height, [](int, int col) { return 0.3 + 0.01 * col; });
  double sum = 0;
  int count = 0;
  for (int col = 5; col <= width - 6; ++col) {
    const double m = 0.2 + 0.01 * col;
    sum += (2 * m * (m + 0.1) + kC1) / (m * m + (m + 0.1) * (m + 0.1) + kC1);
    ++count;
  }
  EXPECT_NEAR(*Ssim(x, y), sum / count, 1e-5);
}

TEST(Ssim, RejectsDifferentSizesAndTinyImages) {
  const Result<double> sizes = Ssim(Noise(20, 20, 1), Noise(21, 20, 1));
  ASSERT_FALSE(sizes.ok());
  EXPECT_NE(sizes.status().message().find("20x20 and 21x20"), std::string::npos) << sizes.status().message();
  const Result<double> tiny = Ssim(Noise(10, 30, 1), Noise(10, 30, 1));
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.status().message().find("at least 11x11"), std::string::npos) << tiny.status().message();
}

TEST(ColorHistogram, BinsEachPixelOnceAndSumsToOne) {
  Image image = Grey(2, 1, [](int, int) { return 0.0; });
  image.at(0, 1, 0) = 1.0f;  // one pure red pixel: bin (7 * 8 + 0) * 8 + 0
  const std::vector<double> h = ColorHistogram(image);
  ASSERT_EQ(h.size(), 512u);
  EXPECT_DOUBLE_EQ(h[0], 0.5);
  EXPECT_DOUBLE_EQ(h[448], 0.5);
}

TEST(HellingerDistance, KnownValues) {
  EXPECT_DOUBLE_EQ(HellingerDistance({0.25, 0.75}, {0.25, 0.75}), 0.0);
  EXPECT_DOUBLE_EQ(HellingerDistance({1, 0}, {0, 1}), 1.0);
  EXPECT_NEAR(HellingerDistance({1, 0}, {0.5, 0.5}), std::sqrt(1 - std::sqrt(0.5)), 1e-15);
}

}  // namespace
}  // namespace stylesweep
