#include "engine/symmetric_gram.h"

#include <torch/torch.h>

#if STYLESWEEP_HAVE_CBLAS
#include <cblas.h>
#endif

namespace stylesweep {
namespace {

// The features as [B, M, N] (channels-last, a view) or [B, N, M] (otherwise,
// copied when not contiguous); `by_position` tells which.
torch::Tensor FeatureMatrices(const torch::Tensor& features, bool* by_position) {
  const int64_t batch = features.size(0), channels = features.size(1);
  *by_position = channels > 1 && features.is_contiguous(torch::MemoryFormat::ChannelsLast);
  if (*by_position) return features.permute({0, 2, 3, 1}).reshape({batch, -1, channels});
  return features.reshape({batch, channels, -1}).contiguous();
}

#if STYLESWEEP_HAVE_CBLAS
// Upper triangle of G_b = A_b A_b^T (by_position: A_b^T A_b) with BLAS; the
// lower triangle is then mirrored from it.
template <typename T>
void RankKUpdate(const torch::Tensor& matrices, bool by_position, torch::Tensor& gram);

template <>
void RankKUpdate<float>(const torch::Tensor& matrices, bool by_position, torch::Tensor& gram) {
  const auto n = static_cast<int>(gram.size(1));
  const auto k = static_cast<int>(by_position ? matrices.size(1) : matrices.size(2));
  for (int64_t b = 0; b < matrices.size(0); ++b) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, by_position ? CblasTrans : CblasNoTrans, n, k, 1.0f,
                matrices[b].data_ptr<float>(), by_position ? n : k, 0.0f, gram[b].data_ptr<float>(), n);
  }
}

template <>
void RankKUpdate<double>(const torch::Tensor& matrices, bool by_position, torch::Tensor& gram) {
  const auto n = static_cast<int>(gram.size(1));
  const auto k = static_cast<int>(by_position ? matrices.size(1) : matrices.size(2));
  for (int64_t b = 0; b < matrices.size(0); ++b) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, by_position ? CblasTrans : CblasNoTrans, n, k, 1.0,
                matrices[b].data_ptr<double>(), by_position ? n : k, 0.0, gram[b].data_ptr<double>(), n);
  }
}
#endif

bool RankKFor(const torch::Tensor& features, GramProduct product) {
  switch (product) {
    case GramProduct::kAuto: return SymmetricGramUsesSyrk(features);
    case GramProduct::kRankK: return SymmetricGramCanUseSyrk(features);
    case GramProduct::kGeneral: return false;
  }
  return false;
}

torch::Tensor GramForward(const torch::Tensor& features, GramProduct product) {
  bool by_position = false;
  const torch::Tensor matrices = FeatureMatrices(features, &by_position);
#if STYLESWEEP_HAVE_CBLAS
  if (RankKFor(features, product)) {
    const int64_t channels = features.size(1);
    torch::Tensor upper = torch::zeros({features.size(0), channels, channels}, features.options());
    if (features.scalar_type() == torch::kFloat32) RankKUpdate<float>(matrices, by_position, upper);
    else RankKUpdate<double>(matrices, by_position, upper);
    return upper + upper.triu(1).transpose(1, 2);
  }
#else
  (void)product;
#endif
  return by_position ? torch::bmm(matrices.transpose(1, 2), matrices) : torch::bmm(matrices, matrices.transpose(1, 2));
}

// dL/dF = (dG + dG^T) F in the layout and shape of `features`.
torch::Tensor GramBackward(const torch::Tensor& features, const torch::Tensor& grad_gram) {
  bool by_position = false;
  const torch::Tensor matrices = FeatureMatrices(features, &by_position);
  const torch::Tensor symmetric = grad_gram + grad_gram.transpose(1, 2);
  const int64_t batch = features.size(0), channels = features.size(1);
  if (by_position) {  // [B, M, N] S, back to [B, N, H, W] with channels-last strides
    return torch::bmm(matrices, symmetric)
        .view({batch, features.size(2), features.size(3), channels})
        .permute({0, 3, 1, 2});
  }
  return torch::bmm(symmetric, matrices).view(features.sizes());
}

class SymmetricGramFunction : public torch::autograd::Function<SymmetricGramFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& features,
                               GramProduct product) {
    context->save_for_backward({features});
    return GramForward(features, product);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* context,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor features = context->get_saved_variables()[0];
    return {GramBackward(features, grads[0]), torch::Tensor()};
  }
};

}  // namespace

bool SymmetricGramCanUseSyrk(const torch::Tensor& features) {
#if STYLESWEEP_HAVE_CBLAS
  return features.device().is_cpu() &&
         (features.scalar_type() == torch::kFloat32 || features.scalar_type() == torch::kFloat64);
#else
  (void)features;
  return false;
#endif
}

bool SymmetricGramUsesSyrk(const torch::Tensor& features) {
  return SymmetricGramCanUseSyrk(features) && features.dim() == 4 &&
         features.size(2) * features.size(3) >= kRankKMinPositions && torch::get_num_threads() == 1;
}

torch::Tensor SymmetricGram(const torch::Tensor& features, GramProduct product) {
  TORCH_CHECK(features.dim() == 4, "SymmetricGram expects [B, C, H, W] features");
  return SymmetricGramFunction::apply(features, product);
}

}  // namespace stylesweep
