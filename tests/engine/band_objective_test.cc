// The band-split objective in one process: threads play the ranks
// (thread_collectives.h), the real SqueezeNet and VGG19-prefix weights from
// the shared models folder run in float64, and every number is compared with
// the whole image on one device. The MPI processes version is
// band_transfer_mpi_test.cc.
#include "engine/band_objective.h"
#include "engine/band_transfer.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include "common/shared_dir.h"
#include "engine/losses.h"
#include "engine/tensor_image.h"
#include "tests/engine/thread_collectives.h"

namespace stylesweep {
namespace {

struct Net {
  std::string backbone;
  std::vector<std::string> content_layers;
  std::vector<std::string> style_layers;
};

// SqueezeNet with its default layers (halo 96 rows) and the VGG19 prefix with
// its defaults for the shared file (halo 32 rows).
const Net kSqueezeNet{"squeezenet1_0", {"fire5"}, {"relu1", "fire2", "fire3", "fire5", "fire7"}};
const Net kVggPrefix{"vgg19", {"relu3_2"}, {"relu1_1", "relu2_1", "relu3_1"}};

Backbone LoadNet(const Net& net) {
  auto spec = GetBackboneSpec(net.backbone, "avg");
  EXPECT_TRUE(spec.ok());
  BackboneLoadOptions options;
  options.models_dir = SharedModelsDir("");
  options.dtype = torch::kFloat64;
  options.channels_last = false;
  auto backbone = Backbone::Load(*spec, options);
  EXPECT_TRUE(backbone.ok()) << backbone.status().ToString();
  return std::move(backbone).value();
}

// Smooth structure plus noise, 0..255, float64: strong features everywhere.
torch::Tensor TestImage(int64_t rows, int64_t cols, int seed) {
  torch::manual_seed(seed);
  auto y = torch::linspace(0, 6.28 * 3, rows, torch::kFloat64).view({1, 1, rows, 1});
  auto x = torch::linspace(0, 6.28 * 2, cols, torch::kFloat64).view({1, 1, 1, cols});
  auto base = (torch::sin(y * (seed + 1)) * torch::cos(x)).expand({1, 3, rows, cols});
  return (base * 80 + 128 + torch::randn({1, 3, rows, cols}, torch::kFloat64) * 20).clamp(0, 255).contiguous();
}

double RelativeDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1e-300, b.abs().max().item<double>());
}

class BandObjectiveTest : public ::testing::TestWithParam<Net> {};

// The crops of the bands, stacked, are the whole image's features: the halos
// are wide enough and the row mapping is right, on the real networks.
TEST_P(BandObjectiveTest, BandFeaturesTileTheFullFeatures) {
  const Net net = GetParam();
  const Backbone backbone = LoadNet(net);
  const auto layers = UnionOfLayerLists(net.content_layers, net.style_layers);
  const torch::Tensor image = TestImage(333, 40, 1);  // not a multiple of any stride
  torch::NoGradGuard no_grad;
  const auto full = backbone.Forward(PixelsToNetworkInput(image, backbone.input_convention()), layers);
  for (int bands : {2, 3, 4}) {
    auto layout = PlanBands(backbone.spec(), layers, 333, bands);
    ASSERT_TRUE(layout.ok()) << layout.status().ToString();
    std::vector<std::vector<torch::Tensor>> pieces(layers.size());
    for (int b = 0; b < bands; ++b) {
      auto features = BandFeatures(backbone, image, *layout, b, layers, torch::MemoryFormat::Contiguous);
      for (size_t l = 0; l < layers.size(); ++l) pieces[l].push_back(features[l]);
    }
    for (size_t l = 0; l < layers.size(); ++l) {
      const torch::Tensor tiled = torch::cat(pieces[l], 2);
      ASSERT_EQ(tiled.sizes(), full[l].sizes()) << layers[l] << " with " << bands << " bands";
      EXPECT_LT(RelativeDifference(tiled, full[l]), 1e-12) << layers[l] << " with " << bands << " bands";
    }
  }
}

// One evaluation of the band-split objective on 1, 2 and 3 thread ranks:
// loss, every term and the whole gradient equal the single-device ones
// (float64, relative error < 1e-10), on every rank.
TEST_P(BandObjectiveTest, LossAndGradientEqualTheSingleDeviceOnes) {
  const Net net = GetParam();
  const Backbone backbone = LoadNet(net);
  const int64_t rows = 300, cols = 36;
  const torch::Tensor content = TestImage(rows, cols, 2);
  const torch::Tensor style = TestImage(200, 48, 3);
  const torch::Tensor x = TestImage(rows, cols, 4);
  const std::vector<double> layer_weights(net.style_layers.size(), 0.3);
  const double alpha = 1.0, beta = 1e3, tv_weight = 0.5;

  // The whole image on one device, straight from losses.h.
  const auto layers = UnionOfLayerLists(net.content_layers, net.style_layers);
  torch::Tensor expected_grad, expected_loss;
  std::vector<torch::Tensor> style_targets;
  {
    torch::NoGradGuard no_grad;
    for (const auto& f : backbone.Forward(PixelsToNetworkInput(style, backbone.input_convention()), net.style_layers)) {
      style_targets.push_back(NormalizedGram(f));
    }
  }
  {
    torch::Tensor leaf = x.clone().requires_grad_(true);
    torch::Tensor content_input = PixelsToNetworkInput(content, backbone.input_convention());
    auto targets = backbone.Forward(content_input, net.content_layers);
    auto features = backbone.Forward(PixelsToNetworkInput(leaf, backbone.input_convention()), layers);
    torch::Tensor loss = torch::zeros({}, torch::kFloat64);
    for (size_t c = 0; c < net.content_layers.size(); ++c) {
      loss = loss + alpha * ContentLoss(features[c], targets[c].detach());
    }
    for (size_t l = 0; l < net.style_layers.size(); ++l) {
      const size_t at = std::find(layers.begin(), layers.end(), net.style_layers[l]) - layers.begin();
      loss = loss + beta * layer_weights[l] * StyleLayerLoss(features[at], style_targets[l]);
    }
    loss = loss + tv_weight * TotalVariation(leaf);
    loss.backward();
    expected_grad = leaf.grad().clone();
    expected_loss = loss.detach();
  }

  for (int ranks : {1, 2, 3}) {
    std::vector<double> losses(static_cast<size_t>(ranks), 0.0);
    std::vector<torch::Tensor> grads(static_cast<size_t>(ranks));
    std::vector<std::vector<torch::Tensor>> targets_per_rank(static_cast<size_t>(ranks));
    std::vector<std::string> errors(static_cast<size_t>(ranks));
    RunOnThreadRanks(ranks, [&](Collectives& collectives) {
      const size_t r = static_cast<size_t>(collectives.rank());
      auto layout = PlanBands(backbone.spec(), layers, static_cast<int>(rows), ranks);
      auto band_style = BandStyleTargets(backbone, style, net.style_layers, collectives, torch::MemoryFormat::Contiguous);
      if (!layout.ok() || !band_style.ok()) {
        errors[r] = !layout.ok() ? layout.status().ToString() : band_style.status().ToString();
        return;
      }
      targets_per_rank[r] = *band_style;
      std::vector<torch::Tensor> content_targets;
      {
        torch::NoGradGuard no_grad;
        content_targets = BandFeatures(backbone, content, *layout, collectives.rank(), net.content_layers,
                                       torch::MemoryFormat::Contiguous);
      }
      BandLossSettings settings;
      settings.content_layers = net.content_layers;
      settings.style_layers = net.style_layers;
      settings.style_layer_weights = layer_weights;
      settings.content_weight = alpha;
      settings.style_weight = beta;
      settings.tv_weight = tv_weight;
      BandObjective objective(backbone, settings, *layout, collectives, content_targets, *band_style);
      torch::Tensor grad = torch::zeros_like(x);
      auto evaluation = objective.Evaluate(x, grad, /*stop_requested=*/false);
      if (!evaluation.ok()) {
        errors[r] = evaluation.status().ToString();
        return;
      }
      losses[r] = evaluation->total;
      grads[r] = grad;
    });
    for (int r = 0; r < ranks; ++r) {
      const size_t i = static_cast<size_t>(r);
      ASSERT_TRUE(errors[i].empty()) << "rank " << r << " of " << ranks << ": " << errors[i];
      for (size_t l = 0; l < style_targets.size(); ++l) {
        EXPECT_LT(RelativeDifference(targets_per_rank[i][l], style_targets[l]), 1e-12) << net.style_layers[l];
      }
      EXPECT_NEAR(losses[i] / expected_loss.item<double>(), 1.0, 1e-10) << "rank " << r << " of " << ranks;
      EXPECT_LT(RelativeDifference(grads[i], expected_grad), 1e-10) << "rank " << r << " of " << ranks;
      EXPECT_TRUE(torch::equal(grads[i], grads[0])) << "rank " << r << " differs from rank 0";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RealWeights, BandObjectiveTest, ::testing::Values(kSqueezeNet, kVggPrefix),
                         [](const auto& info) { return info.param.backbone == "vgg19" ? "Vgg19Prefix" : "SqueezeNet"; });

// Two ranks on the VGG19 prefix with one content and one style layer: the
// setup the stop and failure tests share. This rank's content targets are
// its owned rows of relu3_2.
struct TwoRankProblem {
  BandLayout layout;
  BandLossSettings settings;
  std::vector<torch::Tensor> content_targets;
};

TwoRankProblem MakeTwoRankProblem(const Backbone& backbone, const torch::Tensor& image, int rank) {
  TwoRankProblem problem;
  problem.layout = *PlanBands(backbone.spec(), {"relu3_2", "relu1_1"}, static_cast<int>(image.size(2)), 2);
  problem.settings.content_layers = {"relu3_2"};
  problem.settings.style_layers = {"relu1_1"};
  problem.settings.style_layer_weights = {1.0};
  torch::NoGradGuard no_grad;
  problem.content_targets =
      BandFeatures(backbone, image, problem.layout, rank, {"relu3_2"}, torch::MemoryFormat::Contiguous);
  return problem;
}

// A stop asked for on one rank stops every rank with kCancelled.
TEST(BandObjective, StopOnOneRankStopsAll) {
  const Backbone backbone = LoadNet(kVggPrefix);
  const torch::Tensor image = TestImage(64, 24, 5);
  std::vector<StatusCode> codes(2, StatusCode::kOk);
  RunOnThreadRanks(2, [&](Collectives& collectives) {
    TwoRankProblem p = MakeTwoRankProblem(backbone, image, collectives.rank());
    BandObjective objective(backbone, p.settings, p.layout, collectives, p.content_targets,
                            {torch::eye(64, torch::kFloat64)});
    torch::Tensor grad = torch::zeros_like(image);
    codes[static_cast<size_t>(collectives.rank())] =
        objective.Evaluate(image, grad, /*stop_requested=*/collectives.rank() == 1).status().code();
  });
  EXPECT_EQ(codes[0], StatusCode::kCancelled);
  EXPECT_EQ(codes[1], StatusCode::kCancelled);
}

// A LibTorch failure in one rank's forward pass (here a content target of
// the wrong shape; on a GPU typically its band running out of memory) fails
// the evaluation on every rank instead of leaving the others waiting.
TEST(BandObjective, AFailureOnOneRankFailsEveryRank) {
  const Backbone backbone = LoadNet(kVggPrefix);
  const torch::Tensor image = TestImage(64, 24, 5);
  std::vector<Status> statuses(2);
  RunOnThreadRanks(2, [&](Collectives& collectives) {
    TwoRankProblem p = MakeTwoRankProblem(backbone, image, collectives.rank());
    if (collectives.rank() == 1) p.content_targets[0] = torch::zeros({1, 7, 3, 3}, p.content_targets[0].options());
    BandObjective objective(backbone, p.settings, p.layout, collectives, p.content_targets,
                            {torch::eye(64, torch::kFloat64)});
    torch::Tensor grad = torch::zeros_like(image);
    statuses[static_cast<size_t>(collectives.rank())] = objective.Evaluate(image, grad, false).status();
  });
  EXPECT_EQ(statuses[1].code(), StatusCode::kInternal) << statuses[1].ToString();
  EXPECT_NE(statuses[1].message().find("forward pass of band 1"), std::string::npos) << statuses[1].ToString();
  EXPECT_EQ(statuses[0].code(), StatusCode::kInternal) << statuses[0].ToString();
  EXPECT_NE(statuses[0].message().find("rank 1 of the band split failed in its forward pass"), std::string::npos)
      << statuses[0].ToString();
}

// A rank that cannot read the job's files fails every rank, instead of
// leaving the others waiting in the weights' broadcast (the case of a sweep
// worker group whose ranks see different filesystems).
TEST(BandTransfer, AFileOnlyOneRankCannotReadFailsEveryRank) {
  const std::string images = SharedImagesDir();
  StyleJob job;
  job.content_path = images + "/content/tubingen.jpg";
  job.style_paths = {images + "/style/starry_night.jpg"};
  job.options.backbone = "squeezenet1_0";
  job.options.size = 64;
  job.options.num_iterations = 2;
  job.options.device = "cpu";
  BandSplitConfig config;
  config.models_dir = SharedModelsDir("");
  std::vector<Status> statuses(2);
  RunOnThreadRanks(2, [&](Collectives& collectives) {
    StyleJob mine = job;
    if (collectives.rank() == 1) mine.content_path = images + "/content/not_on_this_node.jpg";
    statuses[static_cast<size_t>(collectives.rank())] =
        RunBandSplitWith(mine, config, collectives, "cpu").status();
  });
  EXPECT_EQ(statuses[1].code(), StatusCode::kNotFound) << statuses[1].ToString();
  EXPECT_NE(statuses[1].message().find("not_on_this_node.jpg"), std::string::npos) << statuses[1].ToString();
  EXPECT_EQ(statuses[0].code(), StatusCode::kNotFound) << statuses[0].ToString();
  EXPECT_NE(statuses[0].message().find("rank 1 of the band split failed while reading the job"), std::string::npos)
      << statuses[0].ToString();
}

}  // namespace
}  // namespace stylesweep
