// The Gatys objective of one image split into bands across ranks.
// Engine-internal (LibTorch); the torch-free entry is engine/band_transfer.h.
//
// Every rank holds the whole image x. Rank r runs the backbone on its band's
// computed rows (owned plus halos, engine/band_split.h) and keeps each
// layer's owned rows. Then:
//   style    partial Gram sums F_r F_r^T over owned positions are summed
//            across ranks (one AllReduceSum for every layer and the content
//            loss together); E_l uses the full layer's N and M, so it equals
//            the single-device E_l up to summation order;
//   content  1/2 sum (F - P)^2 over owned rows, summed across ranks;
//   TV       rank 0 only, over the whole image;
//   weights  added up by ObjectiveSum (engine/objective.h), as on one device.
// Each rank backpropagates its own terms; the style term's gradient flows
// through the full Gram into its own features only. The per-rank gradients
// (zero outside the band, halo rows included) are summed with AllReduceSum,
// which also sums the overlapping halo pixels. Every rank therefore ends an
// evaluation with the same loss and gradient, which keeps L-BFGS identical on
// every rank.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "engine/backbone.h"
#include "engine/band_split.h"
#include "engine/collectives.h"
#include "engine/objective.h"

namespace stylesweep {

struct BandLossSettings {
  std::vector<std::string> content_layers;
  std::vector<std::string> style_layers;
  std::vector<double> style_layer_weights;  // w_l per style layer, same length as style_layers
  double content_weight = 1.0;              // alpha
  double style_weight = 1e3;                // beta
  double tv_weight = 0.0;                   // total variation weight on the 0..255 scale
  torch::MemoryFormat memory_format = torch::MemoryFormat::Contiguous;  // of the network input
};

// The owned rows of each of `layers` (which must be among layout.layers) for
// band `band` of `pixels` ([1, 3, H, W] RGB on the 0..255 scale, H =
// layout.image_rows), differentiable with respect to pixels. Not collective.
std::vector<torch::Tensor> BandFeatures(const Backbone& backbone, const torch::Tensor& pixels,
                                        const BandLayout& layout, int band, const std::vector<std::string>& layers,
                                        torch::MemoryFormat memory_format);

// Collective: the NormalizedGram of each style layer of the whole of
// `style_pixels`, computed band-split across the ranks of `collectives`
// (so a style image too large for one device works too). Identical on every
// rank. Errors: the image is too short for the bands, a collective failed.
Result<std::vector<torch::Tensor>> BandStyleTargets(const Backbone& backbone, const torch::Tensor& style_pixels,
                                                    const std::vector<std::string>& style_layers,
                                                    Collectives& collectives, torch::MemoryFormat memory_format);

// Failures on some ranks only, made known to all. `codes` holds one entry
// per rank, rank r's StatusCode at r (0: ok), summed across ranks. Returns
// `local` where it failed; elsewhere the first failed rank's code with
// "rank R of the band split failed <what> (<code>; its log has the reason)".
Status StatusFromRankCodes(const Status& local, const torch::Tensor& codes, const std::string& what);

// Collective: sums every rank's code (one small AllReduceSum on `device`)
// and returns StatusFromRankCodes, so that no rank goes on into a collective
// that a failed rank will not join.
Status AgreeOnStatus(const Status& local, Collectives& collectives, torch::Device device, const std::string& what);

// One evaluation's numbers, identical on every rank (paper's scale, as in
// IterationRecord).
struct BandEvaluation {
  double total = 0;
  double content = 0;
  double style = 0;
  double tv = 0;
  std::vector<double> style_layers;
};

class BandObjective {
 public:
  // `layout` must have been planned for the union of content and style
  // layers (content first) and collectives.size() bands; `content_targets`
  // are this rank's owned rows of each content layer (BandFeatures of the
  // content image), `style_targets` the NormalizedGram per style layer.
  // The backbone and collectives must outlive the object.
  BandObjective(const Backbone& backbone, BandLossSettings settings, BandLayout layout, Collectives& collectives,
                std::vector<torch::Tensor> content_targets, std::vector<torch::Tensor> style_targets);

  // Collective. Evaluates the objective at x ([1, 3, H, W]) and writes the
  // whole image's gradient to `grad` (same shape), identical on every rank.
  // `stop_requested` from any rank stops every rank: all return kCancelled.
  // A LibTorch failure in one rank's forward or backward pass (its band
  // running out of memory, say) fails every rank: that rank returns its own
  // error (kOutOfMemory with a hint), the others the same code naming it
  // (AgreeOnStatus). A failed collective is kUnavailable.
  Result<BandEvaluation> Evaluate(const torch::Tensor& x, torch::Tensor& grad, bool stop_requested);

  const BandLayout& layout() const { return layout_; }

 private:
  // This rank's forward pass at `leaf`: the content loss over its owned rows
  // and the partial Gram sum of each style layer. A LibTorch failure gives a
  // status and zeros of the right shapes, so the rank still joins the sums.
  struct LocalTerms {
    Status status;
    torch::Tensor content;             // 0-dim
    std::vector<torch::Tensor> grams;  // per style layer, [N, N]
    std::vector<double> positions;     // per style layer, the whole layer's M
  };
  LocalTerms LocalForward(const torch::Tensor& leaf) const;

  const Backbone& backbone_;
  BandLossSettings settings_;
  BandLayout layout_;
  Collectives& collectives_;
  std::vector<torch::Tensor> content_targets_;
  std::vector<torch::Tensor> style_targets_;
  std::vector<std::string> all_layers_;  // content layers then style layers, unique
  ObjectiveWeights weights_;             // settings_' weights as tensors on the targets' device
};

}  // namespace stylesweep
