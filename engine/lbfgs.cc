#include "engine/lbfgs.h"

#include <torch/torch.h>

#include "engine/lbfgs_batch.h"

namespace stylesweep {

Result<LbfgsOutcome> MinimizeLbfgs(torch::Tensor& x, const Objective& objective, const LbfgsOptions& options) {
  // A batch of one whose state is read after every evaluation: the host
  // objective reads its loss anyway, and stops (tolerance, no progress) then
  // cost no evaluation beyond the one that decided them.
  // The objective sees x itself (the batch is a view of it when x is
  // contiguous), as callers that capture x expect.
  const bool in_place = x.is_contiguous();
  torch::Tensor batch = in_place ? x.view({1, -1}) : x.contiguous().view({1, -1});
  const auto shape = x.sizes().vec();
  BatchObjective batch_objective = [&](const torch::Tensor& rows, torch::Tensor& grad, const torch::Tensor&,
                                       std::vector<Status>&) -> Result<torch::Tensor> {
    torch::Tensor point_grad = grad.view(shape);
    SS_ASSIGN_OR_RETURN(double loss, objective(in_place ? x : rows.view(shape), point_grad));
    return torch::full({1}, loss, torch::TensorOptions().dtype(torch::kFloat64).device(x.device()));
  };
  BatchLbfgsOptions batch_options;
  batch_options.lbfgs = options;
  batch_options.sync_every = 1;
  auto results = MinimizeLbfgsBatch(batch, batch_objective, batch_options);
  if (!in_place) x.copy_(batch.view(shape));
  if (!results.ok()) return results.status();
  BatchLbfgsJobResult& result = results->front();
  if (!result.status.ok()) return result.status;
  return result.outcome;
}

}  // namespace stylesweep
