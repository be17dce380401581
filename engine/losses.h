// The losses of Gatys et al. on the paper's scale. Engine-internal (LibTorch).
//
//   content  L_c = 1/2 sum (F - P)^2
//   style    E_l = sum (G - A)^2 / (4 N^2 M^2),  G = F F^T unnormalised
//   total    alpha * L_c + beta * sum_l w_l E_l + tv_weight * TV
//
// Features are [1, C, H, W] in either memory format (the Batch* forms take
// [B, C, H, W]); results are 0-dim
// tensors in the features' dtype, differentiable.
#pragma once

#include <torch/types.h>

namespace stylesweep {

// G = F F^T with F the [N, M] feature matrix (N = C channels, M = H*W),
// computed as a symmetric product with its own backward (symmetric_gram.h).
torch::Tensor GramMatrix(const torch::Tensor& features);

// The style target kept per layer: the Gram matrix divided by M, so targets
// computed at one image size compare with features at another.
torch::Tensor NormalizedGram(const torch::Tensor& features);

// 1/2 sum (F - P)^2.
torch::Tensor ContentLoss(const torch::Tensor& features, const torch::Tensor& target);

// E_l = sum (G - M A)^2 / (4 N^2 M^2) where A = target_normalized_gram
// (NormalizedGram of the style features). When the style image has the
// output's size this is exactly the paper's E_l.
torch::Tensor StyleLayerLoss(const torch::Tensor& features, const torch::Tensor& target_normalized_gram);

// The same E_l from an unnormalised Gram matrix G [N, N] of a layer with
// `positions` = M positions; the band-split run sums G over bands first.
torch::Tensor StyleLayerLossFromGram(const torch::Tensor& gram, double positions,
                                     const torch::Tensor& target_normalized_gram);

// Total variation: sum over neighbouring pixels of squared differences,
// horizontally and vertically, of a [1, C, H, W] image.
torch::Tensor TotalVariation(const torch::Tensor& image);

// The same losses for a batch of B independent jobs: features are
// [B, C, H, W] (row b is job b's), targets are per job, results are [B]
// tensors (row b depends on row b only), differentiable. For B = 1 they
// equal the functions above up to float rounding.

// [B, N, N]: G_b = F_b F_b^T.
torch::Tensor BatchGramMatrix(const torch::Tensor& features);

// [B, N, N]: BatchGramMatrix / M, the per-job style targets.
torch::Tensor BatchNormalizedGram(const torch::Tensor& features);

// [B]: 1/2 sum (F_b - P_b)^2 with target [B, C, H, W].
torch::Tensor BatchContentLoss(const torch::Tensor& features, const torch::Tensor& target);

// [B]: E_l of each job against its target_normalized_grams[b] ([B, N, N]).
torch::Tensor BatchStyleLayerLoss(const torch::Tensor& features, const torch::Tensor& target_normalized_grams);

// [B]: total variation of each image of a [B, C, H, W] batch.
torch::Tensor BatchTotalVariation(const torch::Tensor& images);

}  // namespace stylesweep
