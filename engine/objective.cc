#include "engine/objective.h"

#include <algorithm>

#include <torch/torch.h>

#include "engine/backbone_spec.h"
#include "engine/losses.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

torch::Tensor PerJob(const std::vector<double>& values, torch::Device device, torch::ScalarType dtype) {
  return torch::tensor(values, torch::TensorOptions().dtype(torch::kFloat64))
      .to(torch::TensorOptions().dtype(dtype).device(device));
}

size_t Position(const std::vector<std::string>& layers, const std::string& layer) {
  return static_cast<size_t>(std::find(layers.begin(), layers.end(), layer) - layers.begin());
}

}  // namespace

ObjectiveWeights ObjectiveWeights::Of(const std::vector<LossWeights>& jobs, torch::Device device,
                                      torch::ScalarType dtype) {
  TORCH_CHECK(!jobs.empty(), "ObjectiveWeights::Of needs at least one job");
  std::vector<double> alpha, beta, tv, layers;
  ObjectiveWeights weights;
  for (const LossWeights& job : jobs) {
    TORCH_CHECK(job.style_layer_weights.size() == jobs.front().style_layer_weights.size(),
                "every job needs the same number of style layer weights");
    alpha.push_back(job.content_weight);
    beta.push_back(job.style_weight);
    tv.push_back(job.tv_weight > 0 ? job.tv_weight : 0.0);
    weights.any_tv = weights.any_tv || job.tv_weight > 0;
    layers.insert(layers.end(), job.style_layer_weights.begin(), job.style_layer_weights.end());
  }
  const auto batch = static_cast<int64_t>(jobs.size());
  weights.content = PerJob(alpha, device, dtype);
  weights.style = PerJob(beta, device, dtype);
  weights.tv = PerJob(tv, device, dtype);
  weights.tv_used = (weights.tv > 0).to(dtype);
  weights.style_layers =
      PerJob(layers, device, dtype).view({batch, static_cast<int64_t>(jobs.front().style_layer_weights.size())});
  return weights;
}

ObjectiveSum::ObjectiveSum(const ObjectiveWeights& weights, torch::Tensor content)
    : weights_(weights), content_(std::move(content)), style_(torch::zeros_like(content_)) {}

void ObjectiveSum::AddStyleLayer(const torch::Tensor& style_layer_loss) {
  const auto l = static_cast<int64_t>(style_layers_.size());
  TORCH_CHECK(l < weights_.style_layers.size(1), "more style layers than style layer weights");
  style_layers_.push_back(style_layer_loss);
  style_ = style_ + style_layer_loss * weights_.style_layers.select(1, l);
}

torch::Tensor ObjectiveSum::Total(const torch::Tensor& tv) const {
  return content_ * weights_.content + style_ * weights_.style + tv * weights_.tv;
}

StyleObjective::StyleObjective(const Backbone& backbone, ObjectiveLayers layers, torch::MemoryFormat memory_format,
                               std::vector<torch::Tensor> content_targets, std::vector<torch::Tensor> style_targets,
                               ObjectiveWeights weights)
    : backbone_(backbone),
      layers_(std::move(layers)),
      all_layers_(UnionOfLayerLists(layers_.content, layers_.style)),
      memory_format_(memory_format),
      content_targets_(std::move(content_targets)),
      style_targets_(std::move(style_targets)),
      weights_(std::move(weights)) {
  TORCH_CHECK(content_targets_.size() == layers_.content.size(), "one content target per content layer");
  TORCH_CHECK(style_targets_.size() == layers_.style.size(), "one style target per style layer");
}

std::vector<torch::Tensor> StyleObjective::ContentTargets(const Backbone& backbone, const torch::Tensor& content_pixels,
                                                          const std::vector<std::string>& layers,
                                                          torch::MemoryFormat memory_format) {
  torch::NoGradGuard no_grad;
  auto input = PixelsToNetworkInput(content_pixels, backbone.input_convention()).contiguous(memory_format);
  std::vector<torch::Tensor> targets = backbone.Forward(input, layers);
  for (auto& t : targets) t = t.detach();
  return targets;
}

torch::Tensor StyleObjective::NetworkInput(const torch::Tensor& pixels) const {
  return PixelsToNetworkInput(pixels, backbone_.input_convention()).contiguous(memory_format_);
}

torch::Tensor StyleObjective::Evaluate(const torch::Tensor& pixels, torch::Tensor& grad) const {
  torch::AutoGradMode enable_grad(true);  // the optimisers run under NoGradGuard
  const int64_t batch = pixels.size(0);
  torch::Tensor leaf = pixels.detach().requires_grad_(true);
  auto features = backbone_.Forward(NetworkInput(leaf), all_layers_);
  torch::Tensor content = torch::zeros({batch}, leaf.options());
  for (size_t c = 0; c < layers_.content.size(); ++c) {
    content = content + BatchContentLoss(features[Position(all_layers_, layers_.content[c])], content_targets_[c]);
  }
  ObjectiveSum sum(weights_, content);
  for (size_t l = 0; l < layers_.style.size(); ++l) {
    sum.AddStyleLayer(BatchStyleLayerLoss(features[Position(all_layers_, layers_.style[l])], style_targets_[l]));
  }
  const torch::Tensor tv =
      weights_.any_tv ? BatchTotalVariation(leaf) * weights_.tv_used : torch::zeros({batch}, leaf.options());
  const torch::Tensor total = sum.Total(tv);
  total.sum().backward();
  grad.copy_(leaf.grad());

  std::vector<torch::Tensor> columns = {total, sum.content(), sum.style(), tv};
  columns.insert(columns.end(), sum.style_layers().begin(), sum.style_layers().end());
  return torch::stack(columns, 1).detach();
}

}  // namespace stylesweep
