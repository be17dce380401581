#include "engine/band_objective.h"

#include <algorithm>

#include <torch/torch.h>

#include "engine/job_setup.h"
#include "engine/losses.h"
#include "engine/objective.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

constexpr char kBandOutOfMemoryHint[] = "(use more devices, a smaller size or a shorter lbfgs_history)";

size_t IndexIn(const std::vector<std::string>& list, const std::string& name) {
  const auto it = std::find(list.begin(), list.end(), name);
  TORCH_CHECK(it != list.end(), "layer ", name, " is not in the band layout");
  return static_cast<size_t>(it - list.begin());
}

// Concatenates the flattened tensors (same dtype and device) into one buffer.
torch::Tensor Pack(const std::vector<torch::Tensor>& parts) {
  std::vector<torch::Tensor> flat;
  for (const auto& part : parts) flat.push_back(part.detach().reshape({-1}));
  return torch::cat(flat).contiguous();
}

}  // namespace

Status StatusFromRankCodes(const Status& local, const torch::Tensor& codes, const std::string& what) {
  if (!local.ok()) return local;
  const torch::Tensor host = codes.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const double* values = host.data_ptr<double>();
  for (int64_t rank = 0; rank < host.numel(); ++rank) {
    if (values[rank] == 0) continue;
    const auto code = static_cast<StatusCode>(static_cast<int>(values[rank]));
    return Status(code, "rank " + std::to_string(rank) + " of the band split failed " + what + " (" +
                            StatusCodeName(code) + "; its log has the reason)");
  }
  return Status::Ok();
}

Status AgreeOnStatus(const Status& local, Collectives& collectives, torch::Device device, const std::string& what) {
  torch::Tensor codes =
      torch::zeros({collectives.size()}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  codes[collectives.rank()] = static_cast<double>(static_cast<int>(local.code()));
  SS_RETURN_IF_ERROR(collectives.AllReduceSum(codes).WithContext("agreeing on the ranks' status"));
  return StatusFromRankCodes(local, codes, what);
}

std::vector<torch::Tensor> BandFeatures(const Backbone& backbone, const torch::Tensor& pixels,
                                        const BandLayout& layout, int band, const std::vector<std::string>& layers,
                                        torch::MemoryFormat memory_format) {
  TORCH_CHECK(pixels.size(2) == layout.image_rows, "the image has ", pixels.size(2), " rows, the band layout ",
              layout.image_rows);
  const Band& b = layout.bands.at(static_cast<size_t>(band));
  const torch::Tensor rows = pixels.narrow(2, b.computed.begin, b.computed.size());
  const torch::Tensor input = PixelsToNetworkInput(rows, backbone.input_convention()).contiguous(memory_format);
  std::vector<torch::Tensor> features = backbone.Forward(input, layers);
  for (size_t i = 0; i < layers.size(); ++i) {
    const size_t l = IndexIn(layout.layers, layers[i]);
    const RowRange owned = b.layer_owned[l];
    features[i] = features[i].narrow(2, owned.begin - b.layer_first_row[l], owned.size());
  }
  return features;
}

Result<std::vector<torch::Tensor>> BandStyleTargets(const Backbone& backbone, const torch::Tensor& style_pixels,
                                                    const std::vector<std::string>& style_layers,
                                                    Collectives& collectives, torch::MemoryFormat memory_format) {
  auto layout = PlanBands(backbone.spec(), style_layers, static_cast<int>(style_pixels.size(2)), collectives.size());
  if (!layout.ok()) return layout.status().WithContext("style image");
  torch::NoGradGuard no_grad;
  auto features = BandFeatures(backbone, style_pixels, *layout, collectives.rank(), style_layers, memory_format);
  std::vector<torch::Tensor> grams;
  for (const auto& f : features) grams.push_back(GramMatrix(f));
  torch::Tensor packed = Pack(grams);
  SS_RETURN_IF_ERROR(collectives.AllReduceSum(packed).WithContext("summing style Gram matrices"));
  std::vector<torch::Tensor> targets;
  int64_t at = 0;
  for (size_t l = 0; l < grams.size(); ++l) {
    const double positions = static_cast<double>(layout->layer_rows[l]) * static_cast<double>(features[l].size(3));
    targets.push_back(packed.narrow(0, at, grams[l].numel()).view_as(grams[l]).div(positions));
    at += grams[l].numel();
  }
  return targets;
}

BandObjective::BandObjective(const Backbone& backbone, BandLossSettings settings, BandLayout layout,
                             Collectives& collectives, std::vector<torch::Tensor> content_targets,
                             std::vector<torch::Tensor> style_targets)
    : backbone_(backbone),
      settings_(std::move(settings)),
      layout_(std::move(layout)),
      collectives_(collectives),
      content_targets_(std::move(content_targets)),
      style_targets_(std::move(style_targets)) {
  all_layers_ = UnionOfLayerLists(settings_.content_layers, settings_.style_layers);
  const torch::Tensor& any_target = style_targets_.empty() ? content_targets_.at(0) : style_targets_.front();
  weights_ = ObjectiveWeights::Of({{settings_.content_weight, settings_.style_weight, settings_.tv_weight,
                                    settings_.style_layer_weights}},
                                  any_target.device(), any_target.scalar_type());
  TORCH_CHECK(all_layers_ == layout_.layers, "the band layout was planned for other layers");
  TORCH_CHECK(static_cast<int>(layout_.bands.size()) == collectives_.size(), "the band layout has ",
              layout_.bands.size(), " bands for ", collectives_.size(), " ranks");
}

BandObjective::LocalTerms BandObjective::LocalForward(const torch::Tensor& leaf) const {
  const int rank = collectives_.rank();
  LocalTerms terms;
  try {
    std::vector<torch::Tensor> features =
        BandFeatures(backbone_, leaf, layout_, rank, all_layers_, settings_.memory_format);
    terms.content = torch::zeros({}, leaf.options());
    for (size_t c = 0; c < settings_.content_layers.size(); ++c) {
      const size_t at = IndexIn(all_layers_, settings_.content_layers[c]);
      terms.content = terms.content + ContentLoss(features[at], content_targets_[c]);
    }
    for (const auto& name : settings_.style_layers) {
      const size_t at = IndexIn(all_layers_, name);
      terms.grams.push_back(GramMatrix(features[at]));
      terms.positions.push_back(static_cast<double>(layout_.layer_rows[at]) *
                                static_cast<double>(features[at].size(3)));
    }
  } catch (const std::exception& error) {
    terms.status =
        StatusFromException(error, "the forward pass of band " + std::to_string(rank), kBandOutOfMemoryHint);
    terms.content = torch::zeros({}, leaf.options());
    terms.grams.clear();
    for (const auto& target : style_targets_) terms.grams.push_back(torch::zeros_like(target, leaf.options()));
  }
  return terms;
}

Result<BandEvaluation> BandObjective::Evaluate(const torch::Tensor& x, torch::Tensor& grad, bool stop_requested) {
  const int rank = collectives_.rank();
  const int size = collectives_.size();
  torch::AutoGradMode enable_grad(true);  // L-BFGS runs under NoGradGuard
  torch::Tensor leaf = x.detach().requires_grad_(true);

  // This rank's forward pass. A failure here (out of memory in its band, say)
  // still joins the collective below, with zeros and its code, so that every
  // rank learns of it instead of waiting.
  LocalTerms local_terms = LocalForward(leaf);
  Status local = local_terms.status;  // the backward pass may fail too
  const torch::Tensor content_local = local_terms.content;
  const std::vector<torch::Tensor>& grams_local = local_terms.grams;
  const std::vector<double>& positions = local_terms.positions;

  // One collective for every partial sum: Gram matrices, content loss, stop
  // flag, and each rank's status code.
  std::vector<torch::Tensor> parts = grams_local;
  parts.push_back(content_local);
  parts.push_back(torch::full({1}, stop_requested ? 1.0 : 0.0, leaf.options()));
  torch::Tensor codes = torch::zeros({size}, leaf.options());
  codes[rank] = static_cast<double>(static_cast<int>(local.code()));
  parts.push_back(codes);
  torch::Tensor packed = Pack(parts);
  SS_RETURN_IF_ERROR(collectives_.AllReduceSum(packed).WithContext("summing Gram matrices across bands"));
  const int64_t scalars_at = packed.numel() - size - 2;
  // The stop flag and the codes in one read back.
  const torch::Tensor flags = packed.narrow(0, scalars_at + 1, size + 1).to(torch::kCPU, torch::kFloat64);
  SS_RETURN_IF_ERROR(StatusFromRankCodes(local, flags.narrow(0, 1, size), "in its forward pass"));
  if (flags[0].item<double>() > 0) return Status::Cancelled("stopped on request");

  ObjectiveSum sum(weights_, content_local);
  std::vector<torch::Tensor> style_terms;
  int64_t at = 0;
  for (size_t l = 0; l < grams_local.size(); ++l) {
    const torch::Tensor full = packed.narrow(0, at, grams_local[l].numel()).view_as(grams_local[l]);
    at += grams_local[l].numel();
    // The value of the full Gram (bitwise: g - g is exactly 0, so every rank
    // computes the same E_l), the gradient of this rank's own part.
    const torch::Tensor gram = full + (grams_local[l] - grams_local[l].detach());
    torch::Tensor e = StyleLayerLossFromGram(gram, positions[l], style_targets_[l]);
    style_terms.push_back(e.detach());
    sum.AddStyleLayer(e);
  }
  const torch::Tensor content_full = packed[scalars_at];
  torch::Tensor tv = settings_.tv_weight > 0 ? TotalVariation(leaf) : torch::zeros({}, leaf.options());
  // TV is rank 0's term: the other ranks add its value without its gradient.
  const torch::Tensor objective = sum.Total(rank == 0 ? tv : tv.detach()).sum();
  // This rank's backward pass; a failure joins the sum with a zero gradient
  // and is agreed on right after it.
  try {
    objective.backward();
    grad.copy_(leaf.grad());
  } catch (const std::exception& error) {
    local = StatusFromException(error, "the backward pass of band " + std::to_string(rank), kBandOutOfMemoryHint);
    grad.zero_();
  }
  SS_RETURN_IF_ERROR(collectives_.AllReduceSum(grad).WithContext("summing gradients across bands"));
  SS_RETURN_IF_ERROR(AgreeOnStatus(local, collectives_, leaf.device(), "in its backward pass"));

  std::vector<torch::Tensor> scalars = {content_full, sum.style().detach().reshape({}), tv.detach()};
  scalars.insert(scalars.end(), style_terms.begin(), style_terms.end());
  const torch::Tensor host = torch::stack(scalars).to(torch::kCPU, torch::kFloat64);
  const double* values = host.data_ptr<double>();
  BandEvaluation evaluation;
  evaluation.content = values[0];
  evaluation.style = values[1];
  evaluation.tv = values[2];
  evaluation.style_layers.assign(values + 3, values + 3 + style_terms.size());
  evaluation.total = settings_.content_weight * evaluation.content + settings_.style_weight * evaluation.style +
                     settings_.tv_weight * evaluation.tv;
  return evaluation;
}

}  // namespace stylesweep
