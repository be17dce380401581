#include "engine/losses.h"

#include <torch/torch.h>

#include "engine/symmetric_gram.h"

namespace stylesweep {
torch::Tensor GramMatrix(const torch::Tensor& features) {
  TORCH_CHECK(features.dim() == 4 && features.size(0) == 1, "GramMatrix expects [1, C, H, W] features");
  return SymmetricGram(features).squeeze(0);
}

torch::Tensor NormalizedGram(const torch::Tensor& features) {
  const double positions = static_cast<double>(features.size(2) * features.size(3));
  return GramMatrix(features).div(positions);
}

torch::Tensor ContentLoss(const torch::Tensor& features, const torch::Tensor& target) {
  return (features - target).pow(2).sum().mul(0.5);
}

torch::Tensor StyleLayerLoss(const torch::Tensor& features, const torch::Tensor& target_normalized_gram) {
  const double m = static_cast<double>(features.size(2) * features.size(3));
  return StyleLayerLossFromGram(GramMatrix(features), m, target_normalized_gram);
}

torch::Tensor StyleLayerLossFromGram(const torch::Tensor& gram, double positions,
                                     const torch::Tensor& target_normalized_gram) {
  const double n = static_cast<double>(gram.size(0));
  // sum (G - M A)^2 / (4 N^2 M^2) = sum (G/M - A)^2 / (4 N^2)
  auto difference = gram.div(positions) - target_normalized_gram;
  return difference.pow(2).sum().div(4.0 * n * n);
}

torch::Tensor TotalVariation(const torch::Tensor& image) {
  using torch::indexing::Slice;
  auto dx = image.index({Slice(), Slice(), Slice(), Slice(1, torch::indexing::None)}) -
            image.index({Slice(), Slice(), Slice(), Slice(torch::indexing::None, -1)});
  auto dy = image.index({Slice(), Slice(), Slice(1, torch::indexing::None), Slice()}) -
            image.index({Slice(), Slice(), Slice(torch::indexing::None, -1), Slice()});
  return dx.pow(2).sum() + dy.pow(2).sum();
}

torch::Tensor BatchGramMatrix(const torch::Tensor& features) {
  TORCH_CHECK(features.dim() == 4, "BatchGramMatrix expects [B, C, H, W] features");
  return SymmetricGram(features);
}

torch::Tensor BatchNormalizedGram(const torch::Tensor& features) {
  const double positions = static_cast<double>(features.size(2) * features.size(3));
  return BatchGramMatrix(features).div(positions);
}

torch::Tensor BatchContentLoss(const torch::Tensor& features, const torch::Tensor& target) {
  return (features - target).pow(2).sum({1, 2, 3}).mul(0.5);
}

torch::Tensor BatchStyleLayerLoss(const torch::Tensor& features, const torch::Tensor& target_normalized_grams) {
  const double n = static_cast<double>(features.size(1));
  const double m = static_cast<double>(features.size(2) * features.size(3));
  auto difference = BatchGramMatrix(features).div(m) - target_normalized_grams;
  return difference.pow(2).sum({1, 2}).div(4.0 * n * n);
}

torch::Tensor BatchTotalVariation(const torch::Tensor& images) {
  using torch::indexing::Slice;
  auto dx = images.index({Slice(), Slice(), Slice(), Slice(1, torch::indexing::None)}) -
            images.index({Slice(), Slice(), Slice(), Slice(torch::indexing::None, -1)});
  auto dy = images.index({Slice(), Slice(), Slice(1, torch::indexing::None), Slice()}) -
            images.index({Slice(), Slice(), Slice(torch::indexing::None, -1), Slice()});
  return dx.pow(2).sum({1, 2, 3}) + dy.pow(2).sum({1, 2, 3});
}

}  // namespace stylesweep
