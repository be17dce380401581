// The Gatys et al. objective, in one place: forward to the deepest layer
// used, the content, style and TV losses on the paper's scale (the terms
// themselves are in engine/losses.h), their weighting, and the backward pass
// to the pixels. Engine-internal (LibTorch).
//
//   total_b = alpha_b * L_c + beta_b * sum_l w_bl E_l + tv_b * TV
//
// StyleObjective evaluates it for a batch of B jobs on one device (the
// single-image run is a batch of one); the band split (band_objective.h)
// computes its terms from Gram matrices summed across ranks and adds them up
// with the same ObjectiveSum, so every path weighs the terms alike.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/backbone.h"

namespace stylesweep {

// One job's weights on the paper's scale.
struct LossWeights {
  double content_weight = 1.0;              // alpha
  double style_weight = 1e3;                // beta
  double tv_weight = 0.0;                   // total variation on the 0..255 scale; <= 0: no TV term
  std::vector<double> style_layer_weights;  // w_l, one per style layer
};

// The weights of B jobs as tensors on one device (float32 unless asked).
struct ObjectiveWeights {
  torch::Tensor content;       // [B] alpha
  torch::Tensor style;         // [B] beta
  torch::Tensor tv;            // [B] TV weight, 0 where unused
  torch::Tensor tv_used;       // [B] 1 where the job has a TV term, else 0 (its TV is reported as 0)
  torch::Tensor style_layers;  // [B, L] w_l
  bool any_tv = false;         // some job has a TV term

  // Every job must have the same number of style layer weights.
  static ObjectiveWeights Of(const std::vector<LossWeights>& jobs, torch::Device device,
                             torch::ScalarType dtype = torch::kFloat32);
};

// Adds one evaluation's terms up into the weighted objective, in the order
// the terms are computed (which fixes the backward pass's summation order,
// so keep it: content, then each style layer, then TV). Terms are [B]
// tensors, or 0-dim where B is 1, and stay differentiable.
class ObjectiveSum {
 public:
  ObjectiveSum(const ObjectiveWeights& weights, torch::Tensor content);  // content: sum over content layers
  void AddStyleLayer(const torch::Tensor& style_layer_loss);            // E_l of the next style layer
  // alpha * content + beta * sum_l w_l E_l + tv_weight * tv.
  torch::Tensor Total(const torch::Tensor& tv) const;

  const torch::Tensor& content() const { return content_; }
  const torch::Tensor& style() const { return style_; }  // sum_l w_l E_l so far
  const std::vector<torch::Tensor>& style_layers() const { return style_layers_; }

 private:
  const ObjectiveWeights& weights_;
  torch::Tensor content_;
  torch::Tensor style_;
  std::vector<torch::Tensor> style_layers_;
};

// The layers an objective reads, in the order their targets are given.
struct ObjectiveLayers {
  std::vector<std::string> content;
  std::vector<std::string> style;
};

// The single-device objective of a batch of jobs. The backbone must outlive it.
class StyleObjective {
 public:
  // `content_targets`: per content layer, the content images' features
  // [B, C, H, W] (ContentTargets); `style_targets`: per style layer, the jobs'
  // NormalizedGram targets stacked [B, N, N].
  StyleObjective(const Backbone& backbone, ObjectiveLayers layers, torch::MemoryFormat memory_format,
                 std::vector<torch::Tensor> content_targets, std::vector<torch::Tensor> style_targets,
                 ObjectiveWeights weights);

  // The features of `content_pixels` ([B, 3, H, W], 0..255) at `layers`, detached.
  static std::vector<torch::Tensor> ContentTargets(const Backbone& backbone, const torch::Tensor& content_pixels,
                                                   const std::vector<std::string>& layers,
                                                   torch::MemoryFormat memory_format);

  // Forward, losses and backward at `pixels` ([B, 3, H, W], 0..255): writes
  // d total_b / d pixels_b into `grad` (pixels' shape) and returns the
  // detached [B, 4 + L] losses on the paper's scale: total, content, style,
  // tv, then E_l per style layer. NaN/Inf are returned, not refused.
  // Throws what LibTorch throws (out of memory, say).
  torch::Tensor Evaluate(const torch::Tensor& pixels, torch::Tensor& grad) const;

  // Columns of Evaluate's result.
  static constexpr int64_t kTotal = 0, kContent = 1, kStyle = 2, kTv = 3, kFirstStyleLayer = 4;

 private:
  torch::Tensor NetworkInput(const torch::Tensor& pixels) const;

  const Backbone& backbone_;
  ObjectiveLayers layers_;
  std::vector<std::string> all_layers_;  // content then style, unique: what one forward pass computes
  torch::MemoryFormat memory_format_;
  std::vector<torch::Tensor> content_targets_;
  std::vector<torch::Tensor> style_targets_;
  ObjectiveWeights weights_;
};

}  // namespace stylesweep
