// The device-memory model: a network small enough to add up by hand, how
// the terms scale with the settings a user changes, and the size parser.
#include "engine/memory_estimate.h"

#include <gtest/gtest.h>

#include "common/shared_dir.h"
#include "engine/band_split.h"
#include "engine/flop_count.h"
#include "tests/engine/tiny_backbone.h"

namespace stylesweep {
namespace {

using testing::TinyNet;

TEST(MemoryEstimate, TinyNetworkByHand) {
  MemoryEstimateInput input;
  input.height = input.width = 4;
  input.style_layers = {"relu1"};
  input.lbfgs_history = 5;
  auto estimate = EstimateMemory(TinyNet(), input);
  ASSERT_TRUE(estimate.ok()) << estimate.status().ToString();
  EXPECT_EQ(estimate->weights, 4 * (2 * 3 * 9 + 2));           // 224
  EXPECT_EQ(estimate->activations, 4 * (48 + 48 + 32));        // pixels, input, ReLU output (conv output freed)
  EXPECT_EQ(estimate->gradients, 3 * 4 * 48);                  // the largest tensor is the input
  EXPECT_EQ(estimate->losses, 3 * 4 * 2 * 2);                  // target, Gram, difference: 3 N^2
  EXPECT_EQ(estimate->optimizer, (2 * 5 + 12) * 4 * 48);       // s, y per pair + working vectors
  EXPECT_EQ(estimate->style_pass, 4 * (48 + 48));              // input and its copy is the largest pair
  EXPECT_EQ(estimate->peak_allocated, 224 + 512 + 576 + 48 + 4224);
  EXPECT_EQ(estimate->device_required, 2 * 5584);              // CPU: x 2, no CUDA context
  input.cuda = true;
  auto on_cuda = EstimateMemory(TinyNet(), input);
  ASSERT_TRUE(on_cuda.ok());
  EXPECT_EQ(on_cuda->device_required, 6980 + kCudaContextBytes);  // ceil(5584 x 1.25) + the context
}

TEST(MemoryEstimate, LossReadingAConvKeepsItsOutput) {
  MemoryEstimateInput input;
  input.height = input.width = 4;
  input.style_layers = {"conv1", "relu1"};
  auto estimate = EstimateMemory(TinyNet(), input);
  ASSERT_TRUE(estimate.ok());
  EXPECT_EQ(estimate->activations, 4 * (48 + 48 + 32 + 32));
}

MemoryEstimateInput Vgg19Input(int side, int history) {
  MemoryEstimateInput input;
  input.height = input.width = side;
  input.content_layers = {"relu4_2"};
  input.style_layers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
  input.lbfgs_history = history;
  input.cuda = true;
  return input;
}

TEST(MemoryEstimate, HistoryAddsTwoImagesPerCorrectionPair) {
  auto spec = GetBackboneSpec("vgg19");
  ASSERT_TRUE(spec.ok());
  auto h100 = EstimateMemory(*spec, Vgg19Input(512, 100));
  auto h50 = EstimateMemory(*spec, Vgg19Input(512, 50));
  ASSERT_TRUE(h100.ok() && h50.ok());
  EXPECT_EQ(h100->peak_allocated - h50->peak_allocated, 2LL * 50 * 3 * 512 * 512 * 4);
}

TEST(MemoryEstimate, Vgg19ActivationsGrowWithThePixelCount) {
  auto spec = GetBackboneSpec("vgg19");
  ASSERT_TRUE(spec.ok());
  auto small = EstimateMemory(*spec, Vgg19Input(512, 100));
  auto large = EstimateMemory(*spec, Vgg19Input(1024, 100));
  ASSERT_TRUE(small.ok() && large.ok());
  EXPECT_EQ(large->activations, 4 * small->activations);  // every tensor scales with H x W at these sizes
  EXPECT_EQ(large->optimizer, 4 * small->optimizer);
  EXPECT_EQ(large->weights, small->weights);
  // Block 1 alone keeps relu1_1 and relu1_2 (64 channels each) at full size.
  EXPECT_GT(small->activations, 2LL * 64 * 512 * 512 * 4);
  // A 1024 px VGG19 run with the defaults needs a few GiB, not tens.
  EXPECT_GT(large->device_required, 2LL << 30);
  EXPECT_LT(large->device_required, 16LL << 30);
}

TEST(MemoryEstimate, BandsShareTheActivationsButNotTheWeights) {
  auto spec = GetBackboneSpec("vgg19");
  ASSERT_TRUE(spec.ok());
  MemoryEstimateInput whole = Vgg19Input(2048, 100);
  MemoryEstimateInput banded = whole;
  banded.bands = 4;
  auto one = EstimateMemory(*spec, whole);
  auto four = EstimateMemory(*spec, banded);
  ASSERT_TRUE(one.ok() && four.ok());
  EXPECT_EQ(four->weights, one->weights);
  // The L-BFGS state stays whole on every device.
  EXPECT_EQ(four->optimizer, one->optimizer);
  // Activations follow the tallest band: an inner band owns 512 rows and
  // adds a 160-row halo (relu5_1's receptive field rounded up to its stride
  // of 16) above and below: 832 of 2048 rows.
  auto layout = PlanBands(*spec, {"relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}, 2048, 4);
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->halo, 160);
  EXPECT_EQ(layout->bands[1].computed.size(), 832);
  EXPECT_LT(four->activations, one->activations * 832 / 2048 + one->activations / 50);
  EXPECT_GT(four->activations, one->activations * 832 / 2048 - one->activations / 50);
}

TEST(MemoryEstimate, ABatchSharesTheWeightsOnly) {
  MemoryEstimateInput input;
  input.height = input.width = 4;
  input.style_layers = {"relu1"};
  input.lbfgs_history = 5;
  auto one = EstimateMemory(TinyNet(), input);
  input.batch = 3;
  auto three = EstimateMemory(TinyNet(), input);
  ASSERT_TRUE(one.ok() && three.ok());
  EXPECT_EQ(three->weights, one->weights);
  EXPECT_EQ(three->style_pass, one->style_pass) << "style targets are computed one job at a time";
  EXPECT_EQ(three->activations, 3 * one->activations);
  EXPECT_EQ(three->gradients, 3 * one->gradients);
  EXPECT_EQ(three->losses, 3 * one->losses);
  EXPECT_EQ(three->optimizer, 3 * one->optimizer);
  EXPECT_EQ(three->peak_allocated, 224 + 3 * (5584 - 224));  // the by-hand total above, weights once
}

TEST(MemoryEstimate, RunEstimateUsesTheLargestStageAndTheWeightsFile) {
  StyleOptions options;
  options.backbone = "squeezenet1_0";
  options.scales = {{128, 10}, {256, 10}};
  auto staged = EstimateRunMemory(options, 1024, 768, SharedModelsDir());
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  options.scales.clear();
  options.size = 256;
  auto single = EstimateRunMemory(options, 1024, 768, SharedModelsDir());
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(staged->peak_allocated, single->peak_allocated);
  EXPECT_EQ(single->optimizer, (2LL * 100 + 12) * 4 * 3 * 256 * 192);
  // Every fire module's weights are loaded (the shared file is complete): about 0.74M parameters.
  EXPECT_GT(single->weights, 700000LL * 4);
  EXPECT_LT(single->weights, 800000LL * 4);
  options.weights = "/nonexistent/weights.safetensors";
  EXPECT_FALSE(EstimateRunMemory(options, 1024, 768, SharedModelsDir()).ok());
}

TEST(MemoryEstimate, FormatsAndParsesSizes) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(2048), "2.00 KiB");
  EXPECT_EQ(FormatBytes(1932735283), "1.80 GiB");
  EXPECT_EQ(FormatBytes(80LL << 30), "80.0 GiB");
  EXPECT_EQ(*ParseByteSize("80GiB"), 80LL << 30);
  EXPECT_EQ(*ParseByteSize("80 gib"), 80LL << 30);
  EXPECT_EQ(*ParseByteSize("16G"), 16LL << 30);
  EXPECT_EQ(*ParseByteSize("40GB"), 40000000000LL);
  EXPECT_EQ(*ParseByteSize("1.5TiB"), 3LL << 39);
  EXPECT_EQ(*ParseByteSize("4096"), 4096);
  for (const char* bad : {"", "GiB", "80 parsecs", "-1G", "0", "1.2.3G"}) {
    auto parsed = ParseByteSize(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("memory size"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace stylesweep
