// StyleTransfer::Run end to end on tiny images (32-48 px, squeezenet1_0, a
// handful of iterations): the features a user drives from the command line
// or a sweep file.
#include "engine/style_transfer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "engine/image_io.h"

namespace stylesweep {
namespace {

std::string ContentPath() { return SharedImagesDir() + "/content/tubingen.jpg"; }
std::string StylePath(const std::string& name = "starry_night.jpg") { return SharedImagesDir() + "/style/" + name; }

StyleJob TinyJob(int size = 40, int iterations = 8) {
  StyleJob job;
  job.content_path = ContentPath();
  job.style_paths = {StylePath()};
  job.options.backbone = "squeezenet1_0";
  job.options.size = size;
  job.options.num_iterations = iterations;
  job.options.seed = 3;
  return job;
}

EngineConfig Config() {
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  return config;
}

TransferResult RunOrFail(StyleTransfer& engine, const StyleJob& job, const RunCallbacks& callbacks = {}) {
  auto result = engine.Run(job, callbacks);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return {};
  return std::move(result).value();
}

TEST(StyleTransfer, LbfgsLowersTheLoss) {
  StyleTransfer engine(Config());
  auto result = RunOrFail(engine, TinyJob(40, 10));
  ASSERT_EQ(result.history.size(), 10u);
  EXPECT_LT(result.history.back().total_loss, 0.5 * result.history.front().total_loss);
  EXPECT_EQ(result.image.width, 40);  // tubingen is landscape: 40 x 30
  EXPECT_EQ(result.image.height, 30);
  EXPECT_EQ(result.history.front().style_layer_losses.size(), result.style_layers.size());
  EXPECT_EQ(result.device, "cpu");
  for (size_t i = 0; i < result.history.size(); ++i) EXPECT_EQ(result.history[i].iteration, static_cast<int>(i + 1));
}

TEST(StyleTransfer, SeededNoiseRunsAreBitwiseReproducibleOnCpu) {
  StyleJob job = TinyJob(32, 6);
  job.options.init = "noise";
  StyleTransfer first(Config());
  StyleTransfer second(Config());
  auto a = RunOrFail(first, job);
  auto b = RunOrFail(second, job);
  ASSERT_FALSE(a.image.pixels.empty());
  EXPECT_EQ(a.image.pixels, b.image.pixels);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) EXPECT_EQ(a.history[i].total_loss, b.history[i].total_loss);

  // Same engine again (cached backbone and targets): still identical.
  auto c = RunOrFail(first, job);
  EXPECT_EQ(a.image.pixels, c.image.pixels);

  job.options.seed = 4;
  auto d = RunOrFail(first, job);
  EXPECT_NE(a.image.pixels, d.image.pixels) << "the seed must change the noise";
}

TEST(StyleTransfer, CoarseToFineEndsAtTheLastStage) {
  StyleJob job = TinyJob();
  job.options.scales = {{24, 3}, {48, 4}};
  StyleTransfer engine(Config());
  auto result = RunOrFail(engine, job);
  EXPECT_EQ(result.image.width, 48);
  EXPECT_EQ(result.image.height, 36);
  ASSERT_EQ(result.history.size(), 7u);
  EXPECT_EQ(result.history[2].stage, 0);
  EXPECT_EQ(result.history[3].stage, 1);
  EXPECT_EQ(result.history.back().iteration, 7);
}

TEST(StyleTransfer, StyleBlendWeightsTheStyles) {
  StyleTransfer engine(Config());
  StyleJob single = TinyJob(32, 3);
  auto alone = RunOrFail(engine, single);

  StyleJob blended = single;
  blended.style_paths = {StylePath(), StylePath("the_scream.jpg")};
  blended.options.style_blend = {1.0, 0.0};
  auto only_first = RunOrFail(engine, blended);
  ASSERT_FALSE(only_first.history.empty());
  EXPECT_NEAR(only_first.history[0].style_loss, alone.history[0].style_loss, 1e-5 * alone.history[0].style_loss);

  blended.options.style_blend = {0.5, 0.5};
  auto half = RunOrFail(engine, blended);
  ASSERT_FALSE(half.history.empty());
  EXPECT_GT(std::fabs(half.history[0].style_loss - alone.history[0].style_loss),
            1e-3 * alone.history[0].style_loss);
  EXPECT_LT(half.history.back().total_loss, half.history.front().total_loss);

  blended.options.style_blend = {1.0};
  auto mismatch = engine.Run(blended);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("style_blend"), std::string::npos);
}

// Mean |chroma difference| (RGB minus luminance, 0..1 scale) between two images.
double ChromaDistance(const Image& a, const Image& b) {
  double sum = 0;
  const size_t n = a.pixels.size() / 3;
  for (size_t p = 0; p < n; ++p) {
    const float* x = &a.pixels[3 * p];
    const float* y = &b.pixels[3 * p];
    const double lx = 0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2];
    const double ly = 0.299 * y[0] + 0.587 * y[1] + 0.114 * y[2];
    for (int c = 0; c < 3; ++c) sum += std::fabs((x[c] - lx) - (y[c] - ly));
  }
  return sum / (3.0 * n);
}

TEST(StyleTransfer, PreserveColorsKeepsTheContentsColours) {
  StyleTransfer engine(Config());
  StyleJob job = TinyJob(40, 8);
  auto content = LoadImage(ContentPath());
  ASSERT_TRUE(content.ok());
  auto content_small = ResizeLongestSide(*content, 40, job.options.resize_filter);
  ASSERT_TRUE(content_small.ok());

  auto plain = RunOrFail(engine, job);
  job.options.preserve_colors = "luminance";
  auto luminance = RunOrFail(engine, job);
  job.options.preserve_colors = "histogram";
  auto histogram = RunOrFail(engine, job);
  ASSERT_FALSE(luminance.history.empty());
  ASSERT_FALSE(histogram.history.empty());
  EXPECT_LT(luminance.history.back().total_loss, luminance.history.front().total_loss);
  EXPECT_LT(histogram.history.back().total_loss, histogram.history.front().total_loss);
  // Luminance-only transfer puts the content's chroma back exactly (up to clamping).
  const double luminance_shift = ChromaDistance(luminance.image, *content_small);
  EXPECT_LT(luminance_shift, 0.01);
  EXPECT_LT(luminance_shift, ChromaDistance(plain.image, *content_small));
}

TEST(StyleTransfer, AdamLowersTheLoss) {
  StyleTransfer engine(Config());
  StyleJob job = TinyJob(32, 8);
  job.options.optimizer = "adam";
  job.options.learning_rate = 5.0;
  auto result = RunOrFail(engine, job);
  ASSERT_EQ(result.history.size(), 8u);
  EXPECT_LT(result.history.back().total_loss, result.history.front().total_loss);
}

TEST(StyleTransfer, SnapshotsEveryKIterations) {
  StyleTransfer engine(Config());
  StyleJob job = TinyJob(32, 7);
  job.options.save_every = 2;
  std::vector<int> snapshot_iterations;
  int iteration_calls = 0;
  RunCallbacks callbacks;
  callbacks.on_iteration = [&](const IterationRecord&) { ++iteration_calls; };
  callbacks.on_snapshot = [&](int iteration, const Image& image) {
    snapshot_iterations.push_back(iteration);
    EXPECT_EQ(image.width, 32);
    EXPECT_EQ(image.height, 24);
  };
  auto result = RunOrFail(engine, job, callbacks);
  EXPECT_EQ(snapshot_iterations, (std::vector<int>{2, 4, 6}));
  EXPECT_EQ(iteration_calls, 7);
}

TEST(StyleTransfer, SecondRunWithTheSameStyleHitsTheTargetCache) {
  StyleTransfer engine(Config());
  StyleJob job = TinyJob(32, 2);
  auto first = RunOrFail(engine, job);
  EXPECT_FALSE(first.style_targets_cached);
  job.options.content_weight = 5.0;  // a different sweep point, same style
  auto second = RunOrFail(engine, job);
  EXPECT_TRUE(second.style_targets_cached);
  job.options.size = 36;  // another size needs other targets
  auto third = RunOrFail(engine, job);
  EXPECT_FALSE(third.style_targets_cached);

  EngineConfig no_cache = Config();
  no_cache.max_cached_targets = 0;
  StyleTransfer uncached(no_cache);
  RunOrFail(uncached, job);
  EXPECT_FALSE(RunOrFail(uncached, job).style_targets_cached);
}

TEST(StyleTransfer, ShouldStopCancelsTheRun) {
  StyleTransfer engine(Config());
  int polls = 0;
  RunCallbacks callbacks;
  callbacks.should_stop = [&] { return ++polls > 3; };
  auto result = engine.Run(TinyJob(32, 20), callbacks);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
  EXPECT_NE(result.status().message().find("iteration 3"), std::string::npos) << result.status().message();
}

TEST(StyleTransfer, Vgg19PrefixRunsWithItsOwnLayers) {
  StyleTransfer engine(Config());
  StyleJob job = TinyJob(32, 4);
  job.options.backbone = "vgg19";
  job.options.style_layers = {"relu1_1", "relu2_1", "relu3_1"};
  job.options.content_layers = {"relu3_2"};
  auto result = RunOrFail(engine, job);
  EXPECT_EQ(result.style_layers, job.options.style_layers);
  ASSERT_EQ(result.history.size(), 4u);
  EXPECT_LT(result.history.back().total_loss, result.history.front().total_loss);
}

}  // namespace
}  // namespace stylesweep
