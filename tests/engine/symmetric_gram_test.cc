// The symmetric Gram product (engine/symmetric_gram.h) against the general
// product torch::bmm(F, F^T) and autograd's gradient of it.
#include "engine/symmetric_gram.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stylesweep {
namespace {

torch::Tensor Reference(const torch::Tensor& features) {
  const auto matrices = features.reshape({features.size(0), features.size(1), -1});
  return torch::bmm(matrices, matrices.transpose(1, 2));
}

double RelativeError(const torch::Tensor& value, const torch::Tensor& expected) {
  return (value - expected).abs().max().item<double>() / expected.abs().max().item<double>();
}

// The three layouts the engine hands in: contiguous, channels-last, a slice of rows.
std::vector<torch::Tensor> Layouts(torch::ScalarType dtype) {
  torch::manual_seed(7);
  const auto base = torch::randn({3, 11, 9, 13}, dtype);
  return {base, base.contiguous(torch::MemoryFormat::ChannelsLast), base.narrow(2, 2, 5)};
}

// The general product's two triangles are separate sums, whose order the
// BLAS kernel chooses: symmetric within rounding (bitwise on some CPUs, not
// on others). The rank-k update mirrors one triangle: bitwise symmetric.
TEST(SymmetricGram, MatchesTheGeneralProductInFloat64) {
  for (const auto& features : Layouts(torch::kFloat64)) {
    const auto gram = SymmetricGram(features, GramProduct::kGeneral);
    ASSERT_EQ(gram.sizes(), (std::vector<int64_t>{3, 11, 11}));
    EXPECT_LT(RelativeError(gram, Reference(features)), 1e-13);
    EXPECT_LT(RelativeError(gram, gram.transpose(1, 2)), 1e-13);
    if (!SymmetricGramCanUseSyrk(features)) continue;
    const auto rank_k = SymmetricGram(features, GramProduct::kRankK);
    EXPECT_LT(RelativeError(rank_k, Reference(features)), 1e-13);
    EXPECT_TRUE(torch::equal(rank_k, rank_k.transpose(1, 2)));
  }
}

// Float32 sums in another order than the general product: the stated
// tolerance is 1e-5 of the largest entry.
TEST(SymmetricGram, MatchesTheGeneralProductInFloat32WithinRounding) {
  for (const auto& features : Layouts(torch::kFloat32)) {
    const auto gram = SymmetricGram(features);
    EXPECT_EQ(gram.scalar_type(), torch::kFloat32);
    EXPECT_LT(RelativeError(gram.to(torch::kFloat64), Reference(features.to(torch::kFloat64))), 1e-5);
  }
}

// dL/dF = (dG + dG^T) F for any upstream dG, symmetric or not.
TEST(SymmetricGram, GradientEqualsAutogradOfTheGeneralProduct) {
  for (auto features : Layouts(torch::kFloat64)) {
    torch::manual_seed(11);
    const auto upstream = torch::randn({3, 11, 11}, torch::kFloat64);  // not symmetric
    auto ours = features.detach().clone(features.suggest_memory_format()).requires_grad_(true);
    (SymmetricGram(ours) * upstream).sum().backward();
    auto reference = features.detach().clone().requires_grad_(true);
    (Reference(reference) * upstream).sum().backward();
    ASSERT_EQ(ours.grad().sizes(), features.sizes());
    EXPECT_LT(RelativeError(ours.grad(), reference.grad()), 1e-13);
  }
}

TEST(SymmetricGram, UsesTheRankKUpdateOnlyForCpuFloatingTensors) {
  EXPECT_FALSE(SymmetricGramCanUseSyrk(torch::zeros({1, 2, 2, 2}, torch::kInt32)));
  const auto ints = torch::arange(24, torch::kInt64).view({1, 2, 3, 4});
  EXPECT_TRUE(torch::equal(SymmetricGram(ints), Reference(ints)));
  EXPECT_TRUE(torch::equal(SymmetricGram(ints, GramProduct::kRankK), Reference(ints)));
}

// kAuto's rule: the rank-k update from kRankKMinPositions positions, and only
// while LibTorch runs one intra-op thread.
TEST(SymmetricGram, AutoPicksTheRankKUpdateForLargeMapsOnOneThread) {
  const int threads = torch::get_num_threads();
  const auto large = torch::zeros({1, 4, 1, kRankKMinPositions});
  const auto small = torch::zeros({1, 4, 1, kRankKMinPositions - 1});
  torch::set_num_threads(1);
  EXPECT_EQ(SymmetricGramUsesSyrk(large), SymmetricGramCanUseSyrk(large));
  EXPECT_FALSE(SymmetricGramUsesSyrk(small));
  torch::set_num_threads(2);
  EXPECT_FALSE(SymmetricGramUsesSyrk(large));
  torch::set_num_threads(threads);
}

// The two forward products against each other in float32 on both sides of
// the threshold, contiguous and channels-last: relative 1e-5 of the largest
// entry (the float64 tests above show both match the definition).
TEST(SymmetricGram, RankKAndGeneralProductsAgreeInFloat32) {
  torch::manual_seed(5);
  for (const auto& shape : std::vector<std::vector<int64_t>>{{2, 96, 11, 15}, {1, 128, 23, 31}, {1, 40, 60, 61}}) {
    const auto base = torch::rand(shape);  // non-negative, like ReLU features
    for (const auto& features : {base, base.contiguous(torch::MemoryFormat::ChannelsLast)}) {
      const auto rank_k = SymmetricGram(features, GramProduct::kRankK);
      const auto general = SymmetricGram(features, GramProduct::kGeneral);
      ASSERT_EQ(rank_k.sizes(), general.sizes());
      EXPECT_LT(RelativeError(rank_k, general), 1e-5) << shape[1] << " channels";
      EXPECT_TRUE(torch::equal(rank_k, rank_k.transpose(1, 2)));
    }
  }
}

}  // namespace
}  // namespace stylesweep
