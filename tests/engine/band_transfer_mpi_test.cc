// Whole band-split runs under a real `mpiexec -n 2` / `-n 3` (CTest starts
// this binary both ways), CPU, float32, real SqueezeNet and VGG19-prefix
// weights, compared on rank 0 with StyleTransfer::Run in one process.
//
// Tolerance (docs/BAND_SPLIT.md): the band split sums the same products in a
// different order, so float32 rounding differs by ~1e-7 relative in one
// evaluation. The first two evaluations must agree within 1e-5 relative.
// L-BFGS with unit steps then amplifies such differences: the single-process
// engine run with 2 threads instead of 1 drifts from itself by up to 3e-3
// in the loss within 10 evaluations. So evaluations 3-10 must agree within
// 2e-2 and the final images within a mean of 2e-2 per sample (0..1 scale;
// measured: 1.4e-3 VGG19 prefix, 7.8e-3 SqueezeNet).
// The exact check is one evaluation in float64 (loss and whole gradient
// within 1e-10 relative), over real MPI here and over threads in
// band_objective_test.
#include <mpi.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "common/shared_dir.h"
#include "engine/band_objective.h"
#include "engine/band_transfer.h"
#include "engine/losses.h"
#include "engine/tensor_image.h"
#include "engine/image_io.h"
#include "engine/mpi_collectives.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

constexpr double kEarlyLossTolerance = 1e-5;  // evaluations 1 and 2, relative
constexpr double kLossTolerance = 2e-2;       // evaluations 3 to 10, relative
constexpr double kMeanPixelTolerance = 2e-2;  // final image, mean |difference| per sample on the 0..1 scale

int WorldRank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int WorldSize() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// A smooth picture with detail at several scales so every layer has signal.
Image MakeImage(int width, int height, int seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(image.num_samples());
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image.at(y, x, c) = 0.5f + 0.25f * static_cast<float>(std::sin(0.11 * (x + 1) * (c + seed) + 0.07 * y * seed)) +
                            0.2f * static_cast<float>(std::cos(0.5 * x * y / (seed + 3.0) + c));
  return image;
}

// Rank 0 writes the test images into a fresh folder all ranks read.
class BandTransferMpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[256] = {};
    if (WorldRank() == 0) {
      const fs::path dir = fs::temp_directory_path() / ("band_transfer_mpi_" + std::to_string(::getpid()));
      fs::create_directories(dir);
      std::snprintf(name, sizeof(name), "%s", dir.c_str());
      ASSERT_TRUE(SavePng(MakeImage(64, 320, 1), dir / "tall_content.png").ok());
      ASSERT_TRUE(SavePng(MakeImage(48, 160, 2), dir / "content.png").ok());
      ASSERT_TRUE(SavePng(MakeImage(120, 90, 3), dir / "style.png").ok());
    }
    MPI_Bcast(name, sizeof(name), MPI_CHAR, 0, MPI_COMM_WORLD);
    dir_ = name;
    MPI_Barrier(MPI_COMM_WORLD);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (WorldRank() == 0) fs::remove_all(dir_);
  }

  // A job on one of the fixture's pictures, styled by style.png.
  StyleJob Job(const std::string& content, const std::string& backbone, int size, int iterations) const {
    StyleJob job;
    job.content_path = dir_ + "/" + content;
    job.style_paths = {dir_ + "/style.png"};
    job.options.backbone = backbone;
    job.options.size = size;
    job.options.num_iterations = iterations;
    return job;
  }

  BandSplitConfig Config() const {
    BandSplitConfig config;
    config.devices.assign(static_cast<size_t>(WorldSize()), "cpu");
    config.models_dir = SharedModelsDir("");
    return config;
  }

  // Runs `job` band-split on every rank; on rank 0 also in one process, and
  // compares the loss histories and the images.
  void ExpectMatchesSingleProcess(const StyleJob& job) {
    auto band = RunBandSplit(job, Config());
    ASSERT_TRUE(band.ok()) << band.status().ToString();
    ASSERT_EQ(band->history.size(), static_cast<size_t>(job.options.num_iterations));
    EXPECT_NE(band->note.find(std::to_string(WorldSize()) + " bands"), std::string::npos) << band->note;

    // Every rank reports the same losses (L-BFGS stayed identical).
    std::vector<double> totals;
    for (const auto& r : band->history) totals.push_back(r.total_loss);
    std::vector<double> low = totals, high = totals;
    MPI_Allreduce(MPI_IN_PLACE, low.data(), static_cast<int>(low.size()), MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, high.data(), static_cast<int>(high.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    EXPECT_EQ(low, high) << "ranks report different losses";
    if (WorldRank() != 0) return;

    EngineConfig engine_config;
    engine_config.models_dir = SharedModelsDir("");
    StyleTransfer engine(engine_config);
    auto single = engine.Run(job);
    ASSERT_TRUE(single.ok()) << single.status().ToString();
    ASSERT_EQ(single->history.size(), band->history.size());
    const auto& first_band = band->history.front();
    const auto& first_single = single->history.front();
    EXPECT_NEAR(first_band.total_loss / first_single.total_loss, 1.0, 1e-5);
    EXPECT_NEAR(first_band.content_loss, first_single.content_loss, 1e-5 * first_single.total_loss);
    for (size_t l = 0; l < first_single.style_layer_losses.size(); ++l) {
      EXPECT_NEAR(first_band.style_layer_losses[l] / first_single.style_layer_losses[l], 1.0, 1e-5)
          << single->style_layers[l];
    }
    EXPECT_NEAR(first_band.tv_loss, first_single.tv_loss, 1e-5 * std::max(1.0, first_single.tv_loss));
    for (size_t i = 0; i < single->history.size(); ++i) {
      const double tolerance = i < 2 ? kEarlyLossTolerance : kLossTolerance;
      EXPECT_NEAR(band->history[i].total_loss / single->history[i].total_loss, 1.0, tolerance)
          << "iteration " << i + 1;
    }
    // The optimisation did something, so the comparison is not of two copies of the input.
    EXPECT_LT(single->history.back().total_loss, 0.8 * single->history.front().total_loss);
    ASSERT_EQ(band->image.width, single->image.width);
    ASSERT_EQ(band->image.height, single->image.height);
    double total_difference = 0;
    for (size_t i = 0; i < single->image.pixels.size(); ++i) {
      total_difference += std::abs(band->image.pixels[i] - single->image.pixels[i]);
    }
    const double mean_difference = total_difference / static_cast<double>(single->image.pixels.size());
    EXPECT_LT(mean_difference, kMeanPixelTolerance) << "mean pixel difference (0..1 scale)";
    std::printf("band split vs one process: final loss ratio %.3e, mean pixel difference %.3e\n",
                band->history.back().total_loss / single->history.back().total_loss - 1, mean_difference);
  }

  std::string dir_;
};

// SqueezeNet with its default layers (fire7: halo 96 rows, bands aligned to 8).
TEST_F(BandTransferMpiTest, SqueezeNetMatchesSingleProcess) {
  ExpectMatchesSingleProcess(Job("tall_content.png", "squeezenet1_0", 320, 10));
}

// The VGG19 prefix file with its default layers (relu3_2: halo 32 rows), TV on.
TEST_F(BandTransferMpiTest, Vgg19PrefixMatchesSingleProcess) {
  StyleJob job = Job("content.png", "vgg19", 160, 10);
  job.options.tv_weight = 1e-2;
  ExpectMatchesSingleProcess(job);
}

// The convergence stop in a band split: every rank sees the same reduced
// loss, so every rank stops at the same iteration, for the same reason.
TEST_F(BandTransferMpiTest, EveryRankStopsAtTheSameIterationWhenTheLossPlateaus) {
  StyleJob job = Job("tall_content.png", "squeezenet1_0", 160, 30);
  job.options.stop_tolerance = 0.5;  // loose: half the loss over 2 iterations
  job.options.stop_window = 2;
  auto band = RunBandSplit(job, Config());
  ASSERT_TRUE(band.ok()) << band.status().ToString();
  EXPECT_EQ(band->stop_reason, "converged");
  EXPECT_GE(band->stop_iteration, 3) << "not before the window is full";
  EXPECT_LT(band->stop_iteration, 30);
  EXPECT_EQ(band->history.size(), static_cast<size_t>(band->stop_iteration));
  int low = band->stop_iteration, high = band->stop_iteration;
  MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(low, high) << "ranks stopped at different iterations";
}

// A group runs jobs one after another and keeps the last job's weights:
// switching backbones and back gives bitwise the result of a fresh run, so
// the kept weights are neither stale nor changed by the runs in between.
TEST_F(BandTransferMpiTest, AGroupRunsJobsInTurnAndKeepsOnlyMatchingWeights) {
  const StyleJob vgg = Job("content.png", "vgg19", 160, 3);
  const StyleJob squeezenet = Job("tall_content.png", "squeezenet1_0", 320, 3);

  auto fresh_vgg = RunBandSplit(vgg, Config());
  auto fresh_squeezenet = RunBandSplit(squeezenet, Config());
  ASSERT_TRUE(fresh_vgg.ok() && fresh_squeezenet.ok());
  BandSplitGroup group(MPI_COMM_WORLD, SharedModelsDir(""), 0);
  EXPECT_EQ(group.size(), WorldSize());
  for (const StyleJob* job : {&vgg, &vgg, &squeezenet, &vgg}) {
    auto result = group.Run(*job, "cpu");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    const auto& fresh = job == &vgg ? *fresh_vgg : *fresh_squeezenet;
    ASSERT_EQ(result->history.size(), fresh.history.size());
    for (size_t i = 0; i < fresh.history.size(); ++i) {
      EXPECT_EQ(result->history[i].total_loss, fresh.history[i].total_loss) << job->options.backbone << " " << i;
    }
    EXPECT_EQ(result->image.pixels, fresh.image.pixels) << job->options.backbone;
  }
}

TEST_F(BandTransferMpiTest, RefusesADeviceCountOtherThanTheRankCount) {
  StyleJob job;
  job.content_path = dir_ + "/content.png";
  job.style_paths = {dir_ + "/style.png"};
  BandSplitConfig config = Config();
  config.devices.push_back("cpu");
  auto result = RunBandSplit(job, config);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("mpiexec -n " + std::to_string(WorldSize() + 1)), std::string::npos)
      << result.status().message();
}

TEST_F(BandTransferMpiTest, RefusesAdamAndTooShortImagesOnEveryRank) {
  StyleJob job;
  job.content_path = dir_ + "/content.png";
  job.style_paths = {dir_ + "/style.png"};
  job.options.backbone = "squeezenet1_0";
  job.options.optimizer = "adam";
  auto adam = RunBandSplit(job, Config());
  ASSERT_FALSE(adam.ok());
  EXPECT_NE(adam.status().message().find("optimizer 'adam'"), std::string::npos) << adam.status().message();

  if (WorldSize() >= 3) {
    job.options.optimizer = "lbfgs";
    job.options.backbone = "vgg19";
    job.options.size = 8;  // 8 rows cannot give 3 ranks 4 rows each (relu3_2's stride)
    job.options.num_iterations = 2;
    auto tiny = RunBandSplit(job, Config());
    ASSERT_FALSE(tiny.ok());
    EXPECT_EQ(tiny.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(tiny.status().message().find("use fewer devices"), std::string::npos) << tiny.status().message();
  }
}

// One evaluation in float64 over real MPI collectives: loss and the whole
// gradient equal the single-device ones within 1e-10 relative on every rank.
TEST(BandObjectiveMpi, Float64LossAndGradientEqualTheSingleDeviceOnes) {
  auto spec = GetBackboneSpec("vgg19", "avg");
  ASSERT_TRUE(spec.ok());
  BackboneLoadOptions load;
  load.models_dir = SharedModelsDir("");
  load.dtype = torch::kFloat64;
  load.channels_last = false;
  auto backbone = Backbone::Load(*spec, load);
  ASSERT_TRUE(backbone.ok()) << backbone.status().ToString();
  auto collectives = MpiCollectives::Create(MPI_COMM_WORLD);
  ASSERT_TRUE(collectives.ok()) << collectives.status().ToString();

  torch::manual_seed(7);  // the same images on every rank
  const torch::Tensor content = torch::rand({1, 3, 150, 32}, torch::kFloat64) * 255;
  const torch::Tensor style = torch::rand({1, 3, 90, 40}, torch::kFloat64) * 255;
  const torch::Tensor x = torch::rand({1, 3, 150, 32}, torch::kFloat64) * 255;
  const std::vector<std::string> content_layers = {"relu3_2"}, style_layers = {"relu1_1", "relu2_1", "relu3_1"};
  const auto layers = UnionOfLayerLists(content_layers, style_layers);

  torch::Tensor expected_grad;
  double expected_loss = 0;
  std::vector<torch::Tensor> full_targets;
  {
    const auto convention = backbone->input_convention();
    torch::NoGradGuard no_grad;
    for (const auto& f : backbone->Forward(PixelsToNetworkInput(style, convention), style_layers)) {
      full_targets.push_back(NormalizedGram(f));
    }
  }
  {
    const auto convention = backbone->input_convention();
    torch::Tensor leaf = x.clone().requires_grad_(true);
    const auto content_features = backbone->Forward(PixelsToNetworkInput(content, convention), content_layers);
    const auto features = backbone->Forward(PixelsToNetworkInput(leaf, convention), layers);
    torch::Tensor loss = ContentLoss(features[0], content_features[0].detach()) + 0.2 * TotalVariation(leaf);
    for (size_t l = 0; l < style_layers.size(); ++l) {
      loss = loss + 1e3 / 3 * StyleLayerLoss(features[l + 1], full_targets[l]);
    }
    loss.backward();
    expected_grad = leaf.grad().clone();
    expected_loss = loss.item<double>();
  }

  auto layout = PlanBands(*spec, layers, 150, WorldSize());
  ASSERT_TRUE(layout.ok());
  auto targets = BandStyleTargets(*backbone, style, style_layers, **collectives, torch::MemoryFormat::Contiguous);
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  std::vector<torch::Tensor> content_targets;
  {
    torch::NoGradGuard no_grad;
    content_targets =
        BandFeatures(*backbone, content, *layout, WorldRank(), content_layers, torch::MemoryFormat::Contiguous);
  }
  BandLossSettings settings;
  settings.content_layers = content_layers;
  settings.style_layers = style_layers;
  settings.style_layer_weights.assign(3, 1.0 / 3);
  settings.tv_weight = 0.2;
  BandObjective objective(*backbone, settings, *layout, **collectives, content_targets, *targets);
  torch::Tensor grad = torch::zeros_like(x);
  auto evaluation = objective.Evaluate(x, grad, false);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  EXPECT_NEAR(evaluation->total / expected_loss, 1.0, 1e-10);
  const double scale = expected_grad.abs().max().item<double>();
  EXPECT_LT((grad - expected_grad).abs().max().item<double>() / scale, 1e-10);
  for (size_t l = 0; l < full_targets.size(); ++l) {
    EXPECT_LT(((*targets)[l] - full_targets[l]).abs().max().item<double>() / full_targets[l].abs().max().item<double>(),
              1e-12);
  }
}

}  // namespace
}  // namespace stylesweep
