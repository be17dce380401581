#include "engine/stage_optimizer.h"

#include <cmath>

#include <torch/torch.h>

#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

Status Sync(const std::function<Status()>& on_sync) { return on_sync ? on_sync() : Status::Ok(); }

Result<StageOutcome> RunLbfgs(torch::Tensor& x, const BatchObjective& objective, const StageOptimizerOptions& options,
                              const std::function<Status()>& on_sync) {
  BatchLbfgsOptions lbfgs;
  lbfgs.lbfgs = LbfgsOptionsFor(options);
  lbfgs.sync_every = options.sync_every;
  lbfgs.on_sync = on_sync;
  auto outcome = MinimizeLbfgsBatch(x, objective, lbfgs);
  SS_RETURN_IF_ERROR(Sync(on_sync));
  StageOutcome stage;
  const auto batch = static_cast<size_t>(x.size(0));
  if (!outcome.ok()) {
    stage.all = outcome.status();
    stage.jobs.assign(batch, outcome.status());
    return stage;
  }
  for (const BatchLbfgsJobResult& job : *outcome) {
    stage.jobs.push_back(job.status);
    stage.stop_reasons.push_back(job.outcome.stop_reason);
    stage.evaluations.push_back(job.outcome.evaluations);
  }
  return stage;
}

Result<StageOutcome> RunAdam(torch::Tensor& x, const BatchObjective& objective, const StageOptimizerOptions& options,
                             const std::function<Status()>& on_sync) {
  const int64_t batch = x.size(0);
  torch::Tensor param = x.detach().clone().requires_grad_(true);
  torch::optim::Adam adam({param}, torch::optim::AdamOptions(options.learning_rate));
  torch::Tensor grad = torch::zeros_like(param);
  const torch::Tensor active = torch::ones({batch}, torch::TensorOptions().dtype(torch::kBool).device(x.device()));
  StageOutcome stage;
  stage.jobs.assign(static_cast<size_t>(batch), Status::Ok());
  stage.stop_reasons.assign(static_cast<size_t>(batch), "evaluation budget");
  stage.evaluations.assign(static_cast<size_t>(batch), options.num_iterations);
  for (int i = 0; i < options.num_iterations; ++i) {
    std::vector<Status> job_errors(static_cast<size_t>(batch));
    auto loss = objective(param.detach(), grad, active, job_errors);
    SS_RETURN_IF_ERROR(Sync(on_sync));
    if (!loss.ok()) {
      stage.all = loss.status();
      stage.jobs.assign(static_cast<size_t>(batch), loss.status());
      break;
    }
    const torch::Tensor losses = loss->detach().to(torch::kCPU, torch::kFloat64).contiguous();
    bool failed = false;
    for (int64_t b = 0; b < batch; ++b) {
      Status& job = stage.jobs[static_cast<size_t>(b)];
      if (!job_errors[static_cast<size_t>(b)].ok()) {
        job = job_errors[static_cast<size_t>(b)];
      } else if (!std::isfinite(losses.data_ptr<double>()[b])) {
        job = Status::NumericalError("the loss became NaN/Inf at iteration " +
                                     std::to_string(options.iterations_before + i + 1) +
                                     " (try a smaller --learning-rate)");
      }
      failed = failed || !job.ok();
    }
    if (failed) break;
    param.mutable_grad() = grad.clone();
    adam.step();
    if (options.bounded) {
      torch::NoGradGuard no_grad;
      param.clamp_(options.lower_bound, options.upper_bound);
    }
  }
  x = param.detach();
  return stage;
}

}  // namespace

StageOptimizerOptions StageOptionsFor(const StyleOptions& o, size_t stage_index) {
  StageOptimizerOptions options;
  options.optimizer = o.optimizer;
  options.num_iterations = EffectiveStages(o).at(stage_index).num_iterations;
  options.lbfgs_history = o.lbfgs_history;
  options.lbfgs_tolerance = o.lbfgs_tolerance;
  options.stop_tolerance = o.stop_tolerance;
  options.stop_window = o.stop_window;
  options.normalize_objective = o.normalize_objective;
  options.learning_rate = o.learning_rate;
  options.bounded = o.pixel_bounds == "project";
  options.lower_bound = 0.0;
  options.upper_bound = kPixelScale;
  return options;
}

LbfgsOptions LbfgsOptionsFor(const StageOptimizerOptions& options) {
  LbfgsOptions lbfgs;
  lbfgs.max_evaluations = options.num_iterations;
  lbfgs.history_size = options.lbfgs_history;
  lbfgs.tolerance_change = options.lbfgs_tolerance;
  lbfgs.normalize = options.normalize_objective;
  lbfgs.stop_tolerance = options.stop_tolerance;
  lbfgs.stop_window = options.stop_window;
  if (options.bounded) {
    lbfgs.lower_bound = options.lower_bound;
    lbfgs.upper_bound = options.upper_bound;
  }
  return lbfgs;
}

std::string RunStopReason(const std::string& optimizer_reason) {
  return optimizer_reason == "evaluation budget" ? "iterations done" : optimizer_reason;
}

Result<StageOutcome> OptimizeStage(torch::Tensor& x, const BatchObjective& objective,
                                   const StageOptimizerOptions& options, const std::function<Status()>& on_sync) {
  if (options.optimizer == "lbfgs") return RunLbfgs(x, objective, options, on_sync);
  if (options.optimizer == "adam") return RunAdam(x, objective, options, on_sync);
  return Status::InvalidArgument("optimizer must be lbfgs or adam, not '" + options.optimizer + "'");
}

}  // namespace stylesweep
