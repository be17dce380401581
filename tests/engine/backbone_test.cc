// Backbones built from the shared weights files: output shapes against the
// reference topologies (torchvision squeezenet1_0 and vgg19().features), and
// the whole Gatys objective's input gradient against finite differences.
#include "engine/backbone.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "engine/losses.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

Backbone LoadOrDie(const std::string& name, torch::Dtype dtype, const std::string& pooling = "avg") {
  auto spec = GetBackboneSpec(name, pooling);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  BackboneLoadOptions options;
  options.models_dir = SharedModelsDir();
  options.dtype = dtype;
  auto backbone = Backbone::Load(*spec, options);
  EXPECT_TRUE(backbone.ok()) << backbone.status().ToString();
  return std::move(backbone).value();
}

std::vector<int64_t> Shape(const torch::Tensor& t) { return t.sizes().vec(); }

TEST(Backbone, SqueezeNetShapesMatchTorchvisionAt224) {
  Backbone net = LoadOrDie("squeezenet1_0", torch::kFloat32);
  torch::NoGradGuard no_grad;
  auto input = torch::randn({1, 3, 224, 224});
  auto out = net.Forward(input, {"relu1", "pool1", "fire2", "fire4", "pool4", "fire5", "fire8", "pool8", "fire9"});
  // conv1: 7x7 stride 2 no pad -> 109; max-pool 3/2 ceil -> 54 -> 27 -> 13.
  EXPECT_EQ(Shape(out[0]), (std::vector<int64_t>{1, 96, 109, 109}));
  EXPECT_EQ(Shape(out[1]), (std::vector<int64_t>{1, 96, 54, 54}));
  EXPECT_EQ(Shape(out[2]), (std::vector<int64_t>{1, 128, 54, 54}));
  EXPECT_EQ(Shape(out[3]), (std::vector<int64_t>{1, 256, 54, 54}));
  EXPECT_EQ(Shape(out[4]), (std::vector<int64_t>{1, 256, 27, 27}));
  EXPECT_EQ(Shape(out[5]), (std::vector<int64_t>{1, 256, 27, 27}));
  EXPECT_EQ(Shape(out[6]), (std::vector<int64_t>{1, 512, 27, 27}));
  EXPECT_EQ(Shape(out[7]), (std::vector<int64_t>{1, 512, 13, 13}));
  EXPECT_EQ(Shape(out[8]), (std::vector<int64_t>{1, 512, 13, 13}));
  // Every output follows a ReLU (fire modules end in ReLUs).
  for (const auto& t : out) EXPECT_GE(t.min().item<float>(), 0.0f);
}

TEST(Backbone, Vgg19PrefixShapesMatchTorchvisionAt224) {
  Backbone net = LoadOrDie("vgg19", torch::kFloat32);
  torch::NoGradGuard no_grad;
  auto input = torch::randn({1, 3, 224, 224});
  auto out = net.Forward(input, {"relu1_1", "pool1", "relu2_1", "relu3_1", "relu3_2", "pool3"});
  EXPECT_EQ(Shape(out[0]), (std::vector<int64_t>{1, 64, 224, 224}));
  EXPECT_EQ(Shape(out[1]), (std::vector<int64_t>{1, 64, 112, 112}));
  EXPECT_EQ(Shape(out[2]), (std::vector<int64_t>{1, 128, 112, 112}));
  EXPECT_EQ(Shape(out[3]), (std::vector<int64_t>{1, 256, 56, 56}));
  EXPECT_EQ(Shape(out[4]), (std::vector<int64_t>{1, 256, 56, 56}));
  EXPECT_EQ(Shape(out[5]), (std::vector<int64_t>{1, 256, 28, 28}));
  // The prefix file stops at conv3_4: nothing deeper is offered.
  const auto& available = net.available_layers();
  EXPECT_NE(std::find(available.begin(), available.end(), "pool3"), available.end());
  EXPECT_EQ(std::find(available.begin(), available.end(), "relu4_1"), available.end());
}

TEST(Backbone, ReturnsLayersInTheOrderAsked) {
  Backbone net = LoadOrDie("squeezenet1_0", torch::kFloat32);
  torch::NoGradGuard no_grad;
  auto input = torch::randn({1, 3, 64, 64});
  auto forward = net.Forward(input, {"relu1", "fire3"});
  auto backward = net.Forward(input, {"fire3", "relu1"});
  EXPECT_TRUE(torch::equal(forward[0], backward[1]));
  EXPECT_TRUE(torch::equal(forward[1], backward[0]));
}

TEST(Backbone, ChannelsLastAndContiguousAgree) {
  Backbone net = LoadOrDie("vgg19", torch::kFloat32);
  torch::NoGradGuard no_grad;
  auto input = torch::randn({1, 3, 40, 40}) * 50;
  auto a = net.Forward(input, {"relu3_1"})[0];
  auto b = net.Forward(input.contiguous(torch::MemoryFormat::ChannelsLast), {"relu3_1"})[0];
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-3));
}

// The Gatys objective built from the engine's pieces, as StyleTransfer uses
// them: pixels (RGB 0..255) -> network input -> features -> losses.
struct Objective {
  const Backbone* net;
  std::vector<std::string> content_layers, style_layers, all_layers;
  std::vector<torch::Tensor> content_targets, style_targets;
  double alpha = 1.0, beta = 1e3, tv_weight = 1e-2;

  torch::Tensor operator()(const torch::Tensor& pixels) const {
    auto features = net->Forward(PixelsToNetworkInput(pixels, net->input_convention()), all_layers);
    auto content = torch::zeros({}, pixels.options());
    auto style = torch::zeros({}, pixels.options());
    for (size_t i = 0; i < content_layers.size(); ++i) content = content + ContentLoss(features[i], content_targets[i]);
    for (size_t i = 0; i < style_layers.size(); ++i) {
      style = style + StyleLayerLoss(features[content_layers.size() + i], style_targets[i]) /
                      static_cast<double>(style_layers.size());
    }
    return alpha * content + beta * style + tv_weight * TotalVariation(pixels);
  }
};

// Central differences at `num_pixels` random pixels; returns the largest
// relative error |fd - autograd| / max(|fd|, |autograd|, floor).
double WorstGradientError(const std::string& backbone, const std::vector<std::string>& content_layers,
                          const std::vector<std::string>& style_layers, int side, int num_pixels) {
  Backbone net = LoadOrDie(backbone, torch::kFloat64);
  torch::manual_seed(11);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto content = torch::rand({1, 3, side, side}, opts) * 255;
  auto style = torch::rand({1, 3, side, side}, opts) * 255;
  auto x = (content * 0.5 + torch::rand({1, 3, side, side}, opts) * 127).contiguous();

  Objective objective;
  objective.net = &net;
  objective.content_layers = content_layers;
  objective.style_layers = style_layers;
  objective.all_layers = content_layers;
  objective.all_layers.insert(objective.all_layers.end(), style_layers.begin(), style_layers.end());
  {
    torch::NoGradGuard no_grad;
    objective.content_targets = net.Forward(PixelsToNetworkInput(content, net.input_convention()), content_layers);
    for (auto& f : net.Forward(PixelsToNetworkInput(style, net.input_convention()), style_layers)) {
      objective.style_targets.push_back(NormalizedGram(f));
    }
  }
  auto leaf = x.clone().requires_grad_(true);
  objective(leaf).backward();
  auto grad = leaf.grad();
  const double grad_scale = grad.abs().max().item<double>();

  torch::NoGradGuard no_grad;
  const double h = 1e-3;  // on the 0..255 pixel scale
  double worst = 0;
  for (int k = 0; k < num_pixels; ++k) {
    const int64_t c = torch::randint(3, {1}).item<int64_t>();
    const int64_t i = torch::randint(side, {1}).item<int64_t>();
    const int64_t j = torch::randint(side, {1}).item<int64_t>();
    auto plus = x.clone();
    plus[0][c][i][j] += h;
    auto minus = x.clone();
    minus[0][c][i][j] -= h;
    const double fd = (objective(plus).item<double>() - objective(minus).item<double>()) / (2 * h);
    const double ad = grad[0][c][i][j].item<double>();
    const double denominator = std::max({std::fabs(fd), std::fabs(ad), 1e-3 * grad_scale});
    const double error = std::fabs(fd - ad) / denominator;
    EXPECT_LT(error, 1e-4) << backbone << " pixel (" << c << "," << i << "," << j << "): finite difference " << fd
                           << ", autograd " << ad;
    worst = std::max(worst, error);
  }
  return worst;
}

// Tolerance: relative error < 1e-4 per pixel (float64, h = 1e-3 on 0..255).
TEST(GatysObjective, GradientMatchesFiniteDifferencesSqueezeNet) {
  const double worst = WorstGradientError("squeezenet1_0", {"fire5"}, {"relu1", "fire2", "fire3", "fire5"}, 32, 8);
  EXPECT_LT(worst, 1e-4);
}

TEST(GatysObjective, GradientMatchesFiniteDifferencesVgg19Prefix) {
  const double worst = WorstGradientError("vgg19", {"relu3_2"}, {"relu1_1", "relu2_1", "relu3_1"}, 24, 8);
  EXPECT_LT(worst, 1e-4);
}

}  // namespace
}  // namespace stylesweep
