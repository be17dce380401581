// The stage loop of StyleTransfer::Run (coarse to fine): each stage after
// the first starts from the previous stage's result, resized to its own
// size, and runs its own evaluation budget.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <torch/torch.h>

#include "common/shared_dir.h"
#include "engine/image_io.h"
#include "engine/style_transfer.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

StyleJob NoiseJob() {
  StyleJob job;
  job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
  job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
  job.options.backbone = "squeezenet1_0";
  job.options.init = "noise";  // a start far from the content, so a restart from it would show
  job.options.seed = 5;
  return job;
}

EngineConfig Config() {
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  return config;
}

double MaxAbsDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(StageLoop, SecondStageStartsFromTheUpsampledFirst) {
  StyleTransfer engine(Config());
  StyleJob coarse_only = NoiseJob();
  coarse_only.options.scales = {{24, 3}};
  auto coarse = engine.Run(coarse_only);
  ASSERT_TRUE(coarse.ok()) << coarse.status().ToString();

  StyleJob two_stages = NoiseJob();
  two_stages.options.scales = {{24, 3}, {48, 2}};
  two_stages.options.save_every = 1;
  std::map<int, Image> snapshots;
  RunCallbacks callbacks;
  callbacks.on_snapshot = [&](int iteration, const Image& image) { snapshots[iteration] = image; };
  auto both = engine.Run(two_stages, callbacks);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->history.size(), 5u);
  EXPECT_EQ(both->history[3].stage, 1);
  ASSERT_EQ(snapshots.count(4), 1u) << "no snapshot of the second stage's first evaluation";

  // The second stage's first evaluation is at the first stage's result
  // (pixels kept in 0..255, so its saved image is that result) resized to
  // 48 px; the snapshot is an image, clipped to 0..1, where the resize
  // overshoots.
  const Image& start = snapshots.at(4);
  ASSERT_EQ(start.width, 48);
  ASSERT_EQ(start.height, 36);
  const torch::Tensor start_pixels = ImageToPixels(start);
  const torch::Tensor upsampled = ResizePixels(ImageToPixels(coarse->image), 36, 48).clamp(0, 255);
  EXPECT_LT(MaxAbsDifference(start_pixels, upsampled), 0.01) << "on the 0..255 scale";

  // Not a restart from the content: the start carries what stage one did.
  auto content = LoadImage(two_stages.content_path);
  ASSERT_TRUE(content.ok());
  auto content_48 = ResizeLongestSide(*content, 48, two_stages.options.resize_filter);
  ASSERT_TRUE(content_48.ok());
  EXPECT_GT(MaxAbsDifference(start_pixels, ImageToPixels(*content_48)), 10.0);
  EXPECT_EQ(both->image.width, 48);
}

TEST(StageLoop, EachStageRunsItsOwnBudget) {
  StyleTransfer engine(Config());
  StyleJob job = NoiseJob();
  job.options.scales = {{24, 2}, {32, 3}, {40, 4}};
  auto result = engine.Run(job);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->history.size(), 9u);
  const int expected_stage[] = {0, 0, 1, 1, 1, 2, 2, 2, 2};
  for (size_t i = 0; i < result->history.size(); ++i) {
    EXPECT_EQ(result->history[i].stage, expected_stage[i]) << "evaluation " << i + 1;
    EXPECT_EQ(result->history[i].iteration, static_cast<int>(i + 1));
  }
  EXPECT_EQ(result->image.width, 40);
}

}  // namespace
}  // namespace stylesweep
