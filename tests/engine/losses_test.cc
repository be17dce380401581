// The Gatys et al. losses (engine/losses.h) against their definitions,
// computed independently in float64 with plain loops or matrix algebra.
#include "engine/losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stylesweep {
namespace {

torch::Tensor RandomFeatures(int64_t channels, int64_t height, int64_t width, std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({1, channels, height, width}, torch::kFloat64);
}

// F F^T with F = [C, H*W], written out row by row.
torch::Tensor GramByDefinition(const torch::Tensor& features) {
  const int64_t c = features.size(1);
  auto f = features.reshape({c, -1}).contiguous();
  auto gram = torch::zeros({c, c}, torch::kFloat64);
  auto a = f.accessor<double, 2>();
  auto g = gram.accessor<double, 2>();
  for (int64_t i = 0; i < c; ++i) {
    for (int64_t j = 0; j < c; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < f.size(1); ++k) sum += a[i][k] * a[j][k];
      g[i][j] = sum;
    }
  }
  return gram;
}

TEST(GramMatrix, MatchesDefinitionOnRandomInput) {
  auto features = RandomFeatures(7, 5, 6, 1);
  auto gram = GramMatrix(features);
  ASSERT_EQ(gram.sizes(), (std::vector<int64_t>{7, 7}));
  EXPECT_TRUE(torch::allclose(gram, GramByDefinition(features), 1e-12, 1e-12));
}

TEST(GramMatrix, ChannelsLastGivesTheSameMatrix) {
  auto features = RandomFeatures(9, 4, 7, 2);
  auto channels_last = features.contiguous(torch::MemoryFormat::ChannelsLast);
  ASSERT_TRUE(channels_last.is_contiguous(torch::MemoryFormat::ChannelsLast));
  ASSERT_FALSE(channels_last.is_contiguous());
  EXPECT_TRUE(torch::allclose(GramMatrix(channels_last), GramByDefinition(features), 1e-12, 1e-12));
}

TEST(GramMatrix, NonContiguousSliceGivesTheSameMatrix) {
  auto wide = RandomFeatures(6, 5, 10, 3);
  auto slice = wide.slice(3, 0, 10, 2);  // every other column: neither memory format
  EXPECT_TRUE(torch::allclose(GramMatrix(slice), GramByDefinition(slice.contiguous()), 1e-12, 1e-12));
}

TEST(GramMatrix, Float32AgreesWithFloat64) {
  auto features = RandomFeatures(64, 16, 16, 4);
  auto gram32 = GramMatrix(features.to(torch::kFloat32).contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_EQ(gram32.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(gram32.to(torch::kFloat64), GramByDefinition(features), 1e-4, 1e-3));
}

TEST(NormalizedGram, IsGramDividedByPositions) {
  auto features = RandomFeatures(5, 3, 4, 5);
  EXPECT_TRUE(torch::allclose(NormalizedGram(features), GramByDefinition(features) / 12.0, 1e-12, 1e-12));
}

TEST(ContentLoss, IsHalfTheSumOfSquaredDifferences) {
  auto features = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat64).view({1, 1, 2, 2});
  auto target = torch::tensor({0.0, 2.0, 5.0, 1.0}, torch::kFloat64).view({1, 1, 2, 2});
  // (1 + 0 + 4 + 9) / 2
  EXPECT_DOUBLE_EQ(ContentLoss(features, target).item<double>(), 7.0);
  EXPECT_DOUBLE_EQ(ContentLoss(features, features).item<double>(), 0.0);
}

TEST(StyleLayerLoss, EqualsPaperFormulaForSameSizeFeatures) {
  auto features = RandomFeatures(6, 4, 5, 6);
  auto style = RandomFeatures(6, 4, 5, 7);
  const double n = 6, m = 20;
  auto g = GramByDefinition(features);
  auto a = GramByDefinition(style);
  const double expected = (g - a).pow(2).sum().item<double>() / (4 * n * n * m * m);
  const double actual = StyleLayerLoss(features, NormalizedGram(style)).item<double>();
  EXPECT_NEAR(actual, expected, 1e-12 * expected);
  EXPECT_GT(expected, 0);
}

TEST(StyleLayerLoss, IsZeroForIdenticalFeatures) {
  auto features = RandomFeatures(8, 6, 6, 8);
  EXPECT_NEAR(StyleLayerLoss(features, NormalizedGram(features)).item<double>(), 0.0, 1e-20);
  // A style target from a larger image with the same statistics (tiled) also matches.
  auto tiled = features.repeat({1, 1, 2, 2});
  EXPECT_NEAR(StyleLayerLoss(features, NormalizedGram(tiled)).item<double>(), 0.0, 1e-12);
}

TEST(StyleLayerLoss, GradientFlowsToFeatures) {
  auto features = RandomFeatures(4, 3, 3, 9).requires_grad_(true);
  auto target = NormalizedGram(RandomFeatures(4, 3, 3, 10));
  StyleLayerLoss(features, target).backward();
  ASSERT_TRUE(features.grad().defined());
  EXPECT_GT(features.grad().abs().sum().item<double>(), 0);
}

TEST(TotalVariation, MatchesHandComputedTinyImage) {
  // One channel, 2x3:   1 2 4
  //                     0 3 3
  // horizontal: (2-1)^2 + (4-2)^2 + (3-0)^2 + (3-3)^2 = 1 + 4 + 9 + 0 = 14
  // vertical:   (0-1)^2 + (3-2)^2 + (3-4)^2 = 1 + 1 + 1 = 3
  auto image = torch::tensor({1.0, 2.0, 4.0, 0.0, 3.0, 3.0}, torch::kFloat64).view({1, 1, 2, 3});
  EXPECT_DOUBLE_EQ(TotalVariation(image).item<double>(), 17.0);
  // Channels add up; a constant image has none.
  EXPECT_DOUBLE_EQ(TotalVariation(image.repeat({1, 3, 1, 1})).item<double>(), 51.0);
  EXPECT_DOUBLE_EQ(TotalVariation(torch::full({1, 3, 4, 4}, 7.0, torch::kFloat64)).item<double>(), 0.0);
}

TEST(BatchLosses, EachRowEqualsTheSingleJobLoss) {
  torch::manual_seed(11);
  const int64_t batch = 3;
  auto features = torch::randn({batch, 5, 6, 7}, torch::kFloat64);
  auto content_target = torch::randn({batch, 5, 6, 7}, torch::kFloat64);
  auto style_features = torch::randn({batch, 5, 4, 9}, torch::kFloat64);
  auto grams = BatchNormalizedGram(style_features);
  auto images = torch::randn({batch, 3, 8, 9}, torch::kFloat64);
  auto content = BatchContentLoss(features, content_target);
  auto style = BatchStyleLayerLoss(features, grams);
  auto style_channels_last = BatchStyleLayerLoss(features.contiguous(torch::MemoryFormat::ChannelsLast), grams);
  auto tv = BatchTotalVariation(images);
  ASSERT_EQ(content.sizes(), torch::IntArrayRef({batch}));
  for (int64_t b = 0; b < batch; ++b) {
    auto row = [b](const torch::Tensor& t) { return t.narrow(0, b, 1); };
    EXPECT_TRUE(torch::allclose(grams[b], NormalizedGram(row(style_features)), 1e-12, 1e-12));
    EXPECT_NEAR(content[b].item<double>(), ContentLoss(row(features), row(content_target)).item<double>(), 1e-9);
    const double single_style = StyleLayerLoss(row(features), grams[b]).item<double>();
    EXPECT_NEAR(style[b].item<double>(), single_style, 1e-12 * single_style);
    EXPECT_NEAR(style_channels_last[b].item<double>(), single_style, 1e-12 * single_style);
    EXPECT_NEAR(tv[b].item<double>(), TotalVariation(row(images)).item<double>(), 1e-9);
  }
}

}  // namespace
}  // namespace stylesweep
