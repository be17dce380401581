#include "engine/image_similarity.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace stylesweep {
namespace {

std::vector<double> Luminance(const Image& image) {
  std::vector<double> y(static_cast<std::size_t>(image.width) * image.height);
  for (int row = 0; row < image.height; ++row) {
    for (int col = 0; col < image.width; ++col) {
      y[static_cast<std::size_t>(row) * image.width + col] =
          0.299 * image.at(row, col, 0) + 0.587 * image.at(row, col, 1) + 0.114 * image.at(row, col, 2);
    }
  }
  return y;
}

std::vector<double> GaussianWindow1d() {
  std::vector<double> w(kSsimWindow);
  double sum = 0;
  const int half = kSsimWindow / 2;
  for (int i = 0; i < kSsimWindow; ++i) {
    const double d = i - half;
    w[i] = std::exp(-d * d / (2 * kSsimSigma * kSsimSigma));
    sum += w[i];
  }
  for (double& v : w) v /= sum;
  return w;
}

// The Gaussian-weighted mean of `x` (width x height, row-major) over every
// window that fits: a (height - 10) x (width - 10) result. The 2-D window is
// the outer product of the 1-D one, so filtering rows then columns is exact.
std::vector<double> FilterValid(const std::vector<double>& x, int width, int height, const std::vector<double>& w) {
  const int out_w = width - kSsimWindow + 1, out_h = height - kSsimWindow + 1;
  std::vector<double> rows(static_cast<std::size_t>(height) * out_w);
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < out_w; ++c) {
      double sum = 0;
      for (int k = 0; k < kSsimWindow; ++k) sum += w[k] * x[static_cast<std::size_t>(r) * width + c + k];
      rows[static_cast<std::size_t>(r) * out_w + c] = sum;
    }
  }
  std::vector<double> out(static_cast<std::size_t>(out_h) * out_w);
  for (int r = 0; r < out_h; ++r) {
    for (int c = 0; c < out_w; ++c) {
      double sum = 0;
      for (int k = 0; k < kSsimWindow; ++k) sum += w[k] * rows[static_cast<std::size_t>(r + k) * out_w + c];
      out[static_cast<std::size_t>(r) * out_w + c] = sum;
    }
  }
  return out;
}

}  // namespace

Result<double> Ssim(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height) {
    return Status::InvalidArgument("SSIM needs images of one size, not " + std::to_string(a.width) + "x" +
                                   std::to_string(a.height) + " and " + std::to_string(b.width) + "x" +
                                   std::to_string(b.height));
  }
  if (a.width < kSsimWindow || a.height < kSsimWindow) {
    return Status::InvalidArgument("SSIM needs images of at least " + std::to_string(kSsimWindow) + "x" +
                                   std::to_string(kSsimWindow) + " px, not " + std::to_string(a.width) + "x" +
                                   std::to_string(a.height));
  }
  const std::vector<double> w = GaussianWindow1d();
  const std::vector<double> x = Luminance(a), y = Luminance(b);
  std::vector<double> xx(x.size()), yy(x.size()), xy(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const std::vector<double> mu_x = FilterValid(x, a.width, a.height, w), mu_y = FilterValid(y, a.width, a.height, w);
  const std::vector<double> e_xx = FilterValid(xx, a.width, a.height, w), e_yy = FilterValid(yy, a.width, a.height, w),
                            e_xy = FilterValid(xy, a.width, a.height, w);
  constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;
  double sum = 0;
  for (std::size_t i = 0; i < mu_x.size(); ++i) {
    const double mx = mu_x[i], my = mu_y[i];
    const double var_x = e_xx[i] - mx * mx, var_y = e_yy[i] - my * my, cov = e_xy[i] - mx * my;
    sum += ((2 * mx * my + kC1) * (2 * cov + kC2)) / ((mx * mx + my * my + kC1) * (var_x + var_y + kC2));
  }
  return sum / static_cast<double>(mu_x.size());
}

std::vector<double> ColorHistogram(const Image& image) {
  constexpr int kBins = kColorHistogramBins;
  std::vector<double> histogram(kBins * kBins * kBins, 0.0);
  const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
  if (pixels == 0) return histogram;
  auto bin = [](float v) { return std::clamp(static_cast<int>(std::floor(v * kBins)), 0, kBins - 1); };
  for (std::size_t p = 0; p < pixels; ++p) {
    const float* rgb = &image.pixels[p * image.channels];
    histogram[(bin(rgb[0]) * kBins + bin(rgb[1])) * kBins + bin(rgb[2])] += 1.0;
  }
  for (double& h : histogram) h /= static_cast<double>(pixels);
  return histogram;
}

double HellingerDistance(const std::vector<double>& p, const std::vector<double>& q) {
  double overlap = 0;
  for (std::size_t i = 0; i < p.size() && i < q.size(); ++i) overlap += std::sqrt(p[i] * q[i]);
  return std::sqrt(std::max(0.0, 1.0 - overlap));
}

}  // namespace stylesweep
