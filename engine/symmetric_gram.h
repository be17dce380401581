// The Gram matrices of a batch of feature maps, G_b = F_b F_b^T, computed
// as what they are: symmetric. Engine-internal (LibTorch).
//
// Forward: on the CPU in float32/float64, when LibTorch's intra-op pool has
// one thread and the feature map has at least kRankKMinPositions positions,
// a symmetric rank-k update (cblas_ssyrk/dsyrk of the system BLAS, half the
// multiply-adds of a general product) fills the upper triangle, which is
// mirrored; otherwise a batched matrix product. Measured (docs/BENCHMARKS.md,
// "Symmetric Gram matrices", engine_bench's BM_GramForward): with one
// LibTorch thread the rank-k update is faster from 360 positions up; with
// two, LibTorch's OpenMP threads spin-wait beside the BLAS call and the
// rank-k update was 1.4-100x slower than the general product below 11,625
// positions and no better above, so it is not used. CUDA, other dtypes and a build without
// CBLAS always use the general product.
// Backward: one product, dL/dF_b = (dG_b + dG_b^T) F_b, instead of
// autograd's two for mm(F, F^T), whichever forward ran.
// Results agree with torch::bmm(F, F^T) within float rounding (the sums run
// in another order): relative 1e-5 of the largest entry in float32, the two
// forward products against each other included (SymmetricGram tests).
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace stylesweep {

// Positions (H x W) from which kAuto uses the rank-k update (one thread).
inline constexpr int64_t kRankKMinPositions = 360;

// Which product computes the forward Gram matrix.
enum class GramProduct {
  kAuto,     // the rank-k update where SymmetricGramUsesSyrk says so, else the general one
  kRankK,    // the rank-k update wherever it is available (CPU float, CBLAS), whatever the size
  kGeneral,  // torch::bmm(F, F^T) always
};

// [B, N, N] Gram matrices of `features` [B, N, H, W] (any memory format;
// channels-last is read in place), differentiable with respect to features.
torch::Tensor SymmetricGram(const torch::Tensor& features, GramProduct product = GramProduct::kAuto);

// Whether the rank-k update can run on tensors like this one (CPU, float32
// or float64, a build with CBLAS), whatever their size.
bool SymmetricGramCanUseSyrk(const torch::Tensor& features);

// Whether SymmetricGram's kAuto uses the rank-k update for this tensor now:
// SymmetricGramCanUseSyrk, at least kRankKMinPositions positions, and
// LibTorch's intra-op pool at one thread (torch::get_num_threads()).
bool SymmetricGramUsesSyrk(const torch::Tensor& features);

}  // namespace stylesweep
