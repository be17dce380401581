#include "engine/color.h"

#include <torch/torch.h>

namespace stylesweep {
namespace {

// Rows: Y, I, Q from R, G, B (NTSC).
torch::Tensor RgbToYiqMatrix(const torch::TensorOptions& options) {
  return torch::tensor({0.299, 0.587, 0.114, 0.595716, -0.274453, -0.321263, 0.211456, -0.522591, 0.311135}, options)
      .view({3, 3});
}

// [1, 3, H, W] -> [3, H*W]
torch::Tensor Channels(const torch::Tensor& image) { return image.reshape({3, -1}); }

torch::Tensor Apply3x3(const torch::Tensor& matrix, const torch::Tensor& image) {
  return matrix.mm(Channels(image)).view_as(image);
}

// Symmetric square root (or inverse square root) of a covariance matrix.
torch::Tensor SymmetricPower(const torch::Tensor& covariance, double power) {
  auto [eigenvalues, eigenvectors] = torch::linalg::eigh(covariance, "L");
  auto scaled = eigenvalues.clamp_min(1e-5).pow(power);
  return eigenvectors.mm(torch::diag(scaled)).mm(eigenvectors.t());
}

}  // namespace

torch::Tensor MatchColorHistogram(const torch::Tensor& style, const torch::Tensor& content) {
  auto s = Channels(style).to(torch::kFloat64);
  auto c = Channels(content).to(torch::kFloat64);
  auto mu_s = s.mean(1, true);
  auto mu_c = c.mean(1, true);
  auto centered_s = s - mu_s;
  auto centered_c = c - mu_c;
  auto cov_s = centered_s.mm(centered_s.t()).div(s.size(1));
  auto cov_c = centered_c.mm(centered_c.t()).div(c.size(1));
  auto a = SymmetricPower(cov_c, 0.5).mm(SymmetricPower(cov_s, -0.5));
  auto matched = a.mm(centered_s) + mu_c;
  return matched.view_as(style).to(style.dtype()).clamp(0.0, 255.0);
}

torch::Tensor LuminanceImage(const torch::Tensor& rgb) {
  auto weights = torch::tensor({0.299, 0.587, 0.114}, rgb.options()).view({1, 3, 1, 1});
  auto y = (rgb * weights).sum(1, true);
  return y.expand({-1, 3, -1, -1}).contiguous();
}

torch::Tensor MatchLuminance(const torch::Tensor& style_luminance, const torch::Tensor& content_luminance) {
  auto mu_s = style_luminance.mean();
  auto mu_c = content_luminance.mean();
  auto sigma_s = style_luminance.std().clamp_min(1e-6);
  auto sigma_c = content_luminance.std();
  return ((style_luminance - mu_s) * (sigma_c / sigma_s) + mu_c).clamp(0.0, 255.0);
}

torch::Tensor CombineLuminanceWithContentColor(const torch::Tensor& output, const torch::Tensor& content) {
  auto options = output.options().dtype(torch::kFloat64);
  auto to_yiq = RgbToYiqMatrix(options);
  auto from_yiq = torch::inverse(to_yiq);
  auto content_resized = content;
  if (content.size(2) != output.size(2) || content.size(3) != output.size(3)) {
    namespace F = torch::nn::functional;
    content_resized = F::interpolate(content, F::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{output.size(2), output.size(3)})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false));
  }
  auto out_yiq = Apply3x3(to_yiq, output.to(torch::kFloat64));
  auto content_yiq = Apply3x3(to_yiq, content_resized.to(torch::kFloat64));
  using torch::indexing::Slice;
  auto combined = torch::cat({out_yiq.index({Slice(), Slice(0, 1)}), content_yiq.index({Slice(), Slice(1, 3)})}, 1);
  return Apply3x3(from_yiq, combined).to(output.dtype()).clamp(0.0, 255.0);
}

}  // namespace stylesweep
