// The arithmetic floor of an objective evaluation: shapes, operation counts
// and bytes checked against hand-computed values.
#include "engine/flop_count.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "tests/engine/tiny_backbone.h"

namespace stylesweep {
namespace {

using testing::TinyNet;

double Conv3x3(double in, double out, double side) { return 2.0 * 9 * in * out * side * side; }

TEST(FlopCount, WindowOutputSizeFollowsPyTorch) {
  EXPECT_EQ(WindowOutputSize(224, 7, 2, 0, false), 109);  // SqueezeNet conv1
  EXPECT_EQ(WindowOutputSize(109, 3, 2, 0, true), 54);    // its ceil-mode pool1
  EXPECT_EQ(WindowOutputSize(512, 2, 2, 0, false), 256);  // VGG pool
  EXPECT_EQ(WindowOutputSize(7, 2, 2, 0, false), 3);
  EXPECT_EQ(WindowOutputSize(7, 2, 2, 0, true), 4);
  // ceil_mode drops a window that would start in the right padding: 5 + 2*1
  // - 2 = 5 -> ceil(5/2) + 1 = 4, but the 4th window starts at 6 >= 5 + 1.
  EXPECT_EQ(WindowOutputSize(5, 2, 2, 1, true), 3);
  EXPECT_EQ(WindowOutputSize(2, 3, 1, 0, false), 0);  // input smaller than the window
}

TEST(FlopCount, TinyNetworkByHand) {
  auto work = CountIterationWork(TinyNet(), {}, {"relu1"}, 4, 4, 0);
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  EXPECT_DOUBLE_EQ(work->forward_flops, 2.0 * 9 * 3 * 2 * 16);  // 1728
  EXPECT_DOUBLE_EQ(work->backward_flops, 1728);
  // Gram: N(N+1)M forward (symmetric rank-k update) + 2 N^2 M backward, N = 2, M = 16.
  EXPECT_DOUBLE_EQ(work->gram_flops, 2.0 * 3 * 16 + 2.0 * 2 * 2 * 16);  // 96 + 128
  EXPECT_DOUBLE_EQ(work->TotalFlops(), 1728 + 1728 + 224);
  ASSERT_EQ(work->layers.size(), 2u);
  EXPECT_EQ(work->layers[0].parameters, 2 * 3 * 9 + 2);
  // conv: forward reads 48 + 56 params, writes 32; backward the same. ReLU: 2x32 and 3x32.
  // Gram: NM + N^2 forward, N^2 + NM + NM backward (N = 2, M = 16).
  const double expected_floats = (48 + 32 + 56) * 2 + 2 * 32 + 3 * 32 + (32 + 4 + 4 + 32 + 32);
  EXPECT_DOUBLE_EQ(work->network_bytes, 4 * expected_floats);
  EXPECT_DOUBLE_EQ(work->lbfgs_bytes, 0);
  auto with_history = CountIterationWork(TinyNet(), {}, {"relu1"}, 4, 4, 5);
  ASSERT_TRUE(with_history.ok());
  EXPECT_DOUBLE_EQ(with_history->lbfgs_bytes, 4.0 * 48 * (10 * 5 + 10));
}

TEST(FlopCount, Vgg19ToRelu51At512IsAbout380Gflop) {
  auto spec = GetBackboneSpec("vgg19");
  ASSERT_TRUE(spec.ok());
  auto work = CountIterationWork(*spec, {"relu4_2"}, {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"},
                                 512, 512, 100);
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  const double forward = Conv3x3(3, 64, 512) + Conv3x3(64, 64, 512) + Conv3x3(64, 128, 256) +
                         Conv3x3(128, 128, 256) + Conv3x3(128, 256, 128) + 3 * Conv3x3(256, 256, 128) +
                         Conv3x3(256, 512, 64) + 3 * Conv3x3(512, 512, 64) + Conv3x3(512, 512, 32);
  EXPECT_DOUBLE_EQ(work->forward_flops, forward);  // 189.3 GFLOP
  EXPECT_DOUBLE_EQ(work->backward_flops, forward);
  // The figure: forward + input gradients of the convolutions ~ 380 GFLOP.
  EXPECT_NEAR((work->forward_flops + work->backward_flops) / 1e9, 380, 2);
  double gram = 0;
  for (const auto& [n, side] : std::vector<std::pair<double, double>>{{64, 512}, {128, 256}, {256, 128}, {512, 64}, {512, 32}}) {
    gram += n * (n + 1) * side * side + 2 * n * n * side * side;
  }
  EXPECT_DOUBLE_EQ(work->gram_flops, gram);  // 13.7 GFLOP: half of the 27.4 two general products would take
  EXPECT_EQ(work->layers.back().name, "relu5_1");
  EXPECT_EQ(work->layers.back().out_height, 32);
  EXPECT_EQ(work->style_layer_gram_flops.size(), 5u);
}

TEST(FlopCount, SqueezeNetFireModulesCountTheirThreeConvolutions) {
  auto spec = GetBackboneSpec("squeezenet1_0");
  ASSERT_TRUE(spec.ok());
  // 224 px: conv1 -> 109, pool1 -> 54, fire2 at 54 x 54.
  const auto layers = TraceLayers(*spec, FindLayer(*spec, "fire2"), 224, 224);
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0].out_height, 109);
  EXPECT_DOUBLE_EQ(layers[0].forward_flops, 2.0 * 49 * 3 * 96 * 109 * 109);
  EXPECT_EQ(layers[2].out_height, 54);
  const double positions = 54.0 * 54;
  EXPECT_DOUBLE_EQ(layers[3].forward_flops, 2.0 * positions * (96 * 16 + 16 * 64 + 9 * 16 * 64));
  EXPECT_EQ(layers[3].out_channels, 128);
  EXPECT_EQ(layers[3].parameters, 16 * 97 + 64 * 17 + 64 * (9 * 16 + 1));
}

TEST(FlopCount, UnknownLayerIsAnError) {
  auto spec = GetBackboneSpec("vgg19");
  ASSERT_TRUE(spec.ok());
  auto work = CountIterationWork(*spec, {"relu9_9"}, {}, 64, 64, 0);
  ASSERT_FALSE(work.ok());
  EXPECT_NE(work.status().message().find("relu9_9"), std::string::npos);
}

}  // namespace
}  // namespace stylesweep
