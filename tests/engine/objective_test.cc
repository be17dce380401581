// The objective (engine/objective.h) against the loss functions of
// engine/losses.h, written out per job: the real SqueezeNet weights in
// float64, a batch of two jobs with different weights.
#include "engine/objective.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/shared_dir.h"
#include "engine/losses.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

const ObjectiveLayers kLayers{{"fire2"}, {"relu1", "fire3"}};

Backbone LoadSqueezeNet() {
  auto spec = GetBackboneSpec("squeezenet1_0", "avg");
  EXPECT_TRUE(spec.ok());
  BackboneLoadOptions options;
  options.models_dir = SharedModelsDir("");
  options.dtype = torch::kFloat64;
  auto backbone = Backbone::Load(*spec, options);
  EXPECT_TRUE(backbone.ok()) << backbone.status().ToString();
  return std::move(backbone).value();
}

torch::Tensor Pixels(int64_t batch, int seed) {
  torch::manual_seed(seed);
  return (torch::rand({batch, 3, 40, 48}, torch::kFloat64) * 255).contiguous();
}

std::vector<LossWeights> TwoJobs() {
  return {{1.0, 1e3, 0.0, {0.5, 0.5}}, {1e-2, 1e2, 3.0, {0.25, 0.75}}};
}

// Job b's total written out with losses.h on its own row: the definition.
torch::Tensor TotalByDefinition(const Backbone& backbone, const torch::Tensor& pixels, const torch::Tensor& content,
                                const std::vector<torch::Tensor>& style_grams, const LossWeights& w) {
  auto input = [&](const torch::Tensor& p) { return PixelsToNetworkInput(p, backbone.input_convention()); };
  const auto features = backbone.Forward(input(pixels), {"fire2", "relu1", "fire3"});
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    target = backbone.Forward(input(content), {"fire2"})[0];
  }
  torch::Tensor total = w.content_weight * ContentLoss(features[0], target);
  total = total + w.style_weight * (w.style_layer_weights[0] * StyleLayerLoss(features[1], style_grams[0]) +
                                    w.style_layer_weights[1] * StyleLayerLoss(features[2], style_grams[1]));
  if (w.tv_weight > 0) total = total + w.tv_weight * TotalVariation(pixels);
  return total;
}

struct Fixture {
  Backbone backbone = LoadSqueezeNet();
  torch::Tensor contents = Pixels(2, 1);
  torch::Tensor styles = Pixels(2, 2);
  std::vector<torch::Tensor> style_targets;  // [2, N, N] per style layer

  Fixture() {
    torch::NoGradGuard no_grad;
    const auto features = backbone.Forward(PixelsToNetworkInput(styles, backbone.input_convention()), kLayers.style);
    for (const auto& f : features) style_targets.push_back(BatchNormalizedGram(f));
  }
  StyleObjective Make() const {
    return StyleObjective(backbone, kLayers, torch::MemoryFormat::Contiguous,
                          StyleObjective::ContentTargets(backbone, contents, kLayers.content,
                                                         torch::MemoryFormat::Contiguous),
                          style_targets, ObjectiveWeights::Of(TwoJobs(), torch::kCPU, torch::kFloat64));
  }
  std::vector<torch::Tensor> GramsOf(int64_t job) const {
    return {style_targets[0][job], style_targets[1][job]};
  }
};

TEST(StyleObjective, EachRowIsItsJobsWeightedLossesWithItsGradient) {
  const Fixture f;
  const StyleObjective objective = f.Make();
  const torch::Tensor x = Pixels(2, 3);
  torch::Tensor grad = torch::zeros_like(x);
  const torch::Tensor values = objective.Evaluate(x, grad);
  ASSERT_EQ(values.sizes(), (std::vector<int64_t>{2, 6}));
  for (int64_t b = 0; b < 2; ++b) {
    const LossWeights w = TwoJobs()[static_cast<size_t>(b)];
    torch::Tensor row = x.narrow(0, b, 1).detach().requires_grad_(true);
    torch::Tensor expected = TotalByDefinition(f.backbone, row, f.contents.narrow(0, b, 1), f.GramsOf(b), w);
    expected.backward();
    EXPECT_NEAR(values[b][StyleObjective::kTotal].item<double>(), expected.item<double>(),
                1e-9 * expected.item<double>())
        << "job " << b;
    const double style = w.style_layer_weights[0] * values[b][StyleObjective::kFirstStyleLayer].item<double>() +
                         w.style_layer_weights[1] * values[b][StyleObjective::kFirstStyleLayer + 1].item<double>();
    EXPECT_NEAR(values[b][StyleObjective::kStyle].item<double>(), style, 1e-12 * style);
    const double tv = w.tv_weight > 0 ? TotalVariation(row.detach()).item<double>() : 0.0;
    EXPECT_NEAR(values[b][StyleObjective::kTv].item<double>(), tv, 1e-12 * (tv + 1));
    const double grad_scale = row.grad().abs().max().item<double>();
    EXPECT_LT((grad.narrow(0, b, 1) - row.grad()).abs().max().item<double>(), 1e-9 * grad_scale) << "job " << b;
  }
}

TEST(StyleObjective, ARowDependsOnItsOwnJobOnly) {
  const Fixture f;
  const StyleObjective objective = f.Make();
  torch::Tensor x = Pixels(2, 4);
  torch::Tensor grad = torch::zeros_like(x);
  const torch::Tensor before = objective.Evaluate(x, grad);
  const torch::Tensor grad_before = grad.clone();
  x[1] = x[1] * 0.5;
  const torch::Tensor after = objective.Evaluate(x, grad);
  EXPECT_TRUE(torch::equal(before[0], after[0]));
  EXPECT_TRUE(torch::equal(grad_before[0], grad[0]));
  EXPECT_FALSE(torch::equal(before[1], after[1]));
}

TEST(ObjectiveSum, WeighsTheTermsAsThePaper) {
  const ObjectiveWeights weights = ObjectiveWeights::Of(TwoJobs(), torch::kCPU, torch::kFloat64);
  ObjectiveSum sum(weights, torch::tensor({2.0, 4.0}, torch::kFloat64));
  sum.AddStyleLayer(torch::tensor({10.0, 20.0}, torch::kFloat64));
  sum.AddStyleLayer(torch::tensor({30.0, 40.0}, torch::kFloat64));
  const torch::Tensor total = sum.Total(torch::tensor({5.0, 6.0}, torch::kFloat64));
  // job 0: 1 * 2 + 1e3 * (0.5 * 10 + 0.5 * 30) + 0 * 5; job 1: 1e-2 * 4 + 1e2 * (0.25 * 20 + 0.75 * 40) + 3 * 6
  EXPECT_DOUBLE_EQ(sum.style()[0].item<double>(), 20.0);
  EXPECT_DOUBLE_EQ(sum.style()[1].item<double>(), 35.0);
  EXPECT_DOUBLE_EQ(total[0].item<double>(), 20002.0);
  EXPECT_DOUBLE_EQ(total[1].item<double>(), 0.04 + 3500.0 + 18.0);
  EXPECT_EQ(weights.tv_used[0].item<double>(), 0.0);
  EXPECT_EQ(weights.tv_used[1].item<double>(), 1.0);
}

}  // namespace
}  // namespace stylesweep
