// The Gram matrices of a batch of feature maps, G_b = F_b F_b^T, computed
// as what they are: symmetric. Engine-internal (LibTorch).
//
// Forward: on the CPU in float32/float64 a symmetric rank-k update
// (cblas_ssyrk/dsyrk of the system BLAS, half the multiply-adds of a general
// product) fills the upper triangle, which is mirrored; elsewhere (CUDA, other
// dtypes, a build without CBLAS) a batched matrix product.
// Backward: one product, dL/dF_b = (dG_b + dG_b^T) F_b, instead of
// autograd's two for mm(F, F^T).
// Results agree with torch::bmm(F, F^T) within float rounding (the sums run
// in another order): relative 1e-5 in float32 (SymmetricGram tests).
#pragma once

#include <torch/types.h>

namespace stylesweep {

// [B, N, N] Gram matrices of `features` [B, N, H, W] (any memory format;
// channels-last is read in place), differentiable with respect to features.
torch::Tensor SymmetricGram(const torch::Tensor& features);

// Whether SymmetricGram uses the BLAS rank-k update for tensors like this
// one (CPU, float32 or float64, a build with CBLAS).
bool SymmetricGramUsesSyrk(const torch::Tensor& features);

}  // namespace stylesweep
