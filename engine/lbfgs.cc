#include "engine/lbfgs.h"

#include <cmath>
#include <deque>

#include <torch/torch.h>

namespace stylesweep {
namespace {

struct Correction {
  torch::Tensor s;  // x_{k+1} - x_k
  torch::Tensor y;  // g_{k+1} - g_k
  double rho;       // 1 / (y . s)
};

double Dot(const torch::Tensor& a, const torch::Tensor& b) { return a.dot(b).item<double>(); }

// The two-loop recursion: d = -H g with H the L-BFGS inverse-Hessian estimate.
torch::Tensor Direction(const torch::Tensor& g, const std::deque<Correction>& history, double h_diag) {
  torch::Tensor q = g.neg();
  std::vector<double> alpha(history.size());
  for (int i = static_cast<int>(history.size()) - 1; i >= 0; --i) {
    alpha[i] = history[i].rho * Dot(history[i].s, q);
    q.add_(history[i].y, -alpha[i]);
  }
  q.mul_(h_diag);
  for (size_t i = 0; i < history.size(); ++i) {
    const double beta = history[i].rho * Dot(history[i].y, q);
    q.add_(history[i].s, alpha[i] - beta);
  }
  return q;
}

}  // namespace

Result<LbfgsOutcome> MinimizeLbfgs(torch::Tensor& x, const Objective& objective, const LbfgsOptions& options) {
  torch::NoGradGuard no_grad;
  LbfgsOutcome outcome;
  if (options.max_evaluations <= 0) {
    outcome.stop_reason = "evaluation budget";
    return outcome;
  }
  torch::Tensor flat_x = x.view({-1});
  torch::Tensor grad = torch::zeros_like(x);

  auto evaluate = [&](double& loss) -> Status {
    auto result = objective(x, grad);
    ++outcome.evaluations;
    if (!result.ok()) return result.status();
    loss = *result;
    return Status::Ok();
  };

  double f = 0;
  SS_RETURN_IF_ERROR(evaluate(f));
  if (!std::isfinite(f) || !torch::isfinite(grad).all().item<bool>()) {
    return Status::NumericalError("the loss or its gradient is NaN/Inf at the starting image");
  }
  double scale = 1.0;
  if (options.normalize) {
    const double max_grad = grad.abs().max().item<double>();
    if (max_grad > 0) scale = 1.0 / max_grad;
  }
  torch::Tensor g = grad.view({-1}).mul(scale);
  double f_scaled = f * scale;
  outcome.final_loss = f;

  std::deque<Correction> history;
  double h_diag = 1.0;
  torch::Tensor d = g.neg();
  // First step as in Torch's optim.lbfgs: t = min(1, 1/|g|_1) * lr.
  double t = std::min(1.0, 1.0 / g.abs().sum().item<double>()) * options.learning_rate;

  while (outcome.evaluations < options.max_evaluations) {
    const double gtd = Dot(g, d);
    if (gtd > -1e-30) {  // not a descent direction: restart from steepest descent
      history.clear();
      h_diag = 1.0;
      d = g.neg();
    }
    torch::Tensor x_before = flat_x.clone();
    double f_new = 0;
    bool accepted = false;
    for (int attempt = 0; attempt <= options.max_backtracks && outcome.evaluations < options.max_evaluations;
         ++attempt) {
      flat_x.copy_(x_before).add_(d, t);
      SS_RETURN_IF_ERROR(evaluate(f_new));
      const bool finite = std::isfinite(f_new) && torch::isfinite(grad).all().item<bool>();
      if (finite && f_new * scale <= f_scaled) {
        accepted = true;
        break;
      }
      if (!finite && attempt == options.max_backtracks) {
        flat_x.copy_(x_before);
        return Status::NumericalError("the loss became NaN/Inf at evaluation " + std::to_string(outcome.evaluations) +
                                      " and halving the step " + std::to_string(options.max_backtracks) +
                                      " times did not help");
      }
      t *= 0.5;
    }
    if (!accepted) {
      flat_x.copy_(x_before);
      outcome.stop_reason = outcome.evaluations >= options.max_evaluations ? "evaluation budget" : "no progress";
      return outcome;
    }

    torch::Tensor g_new = grad.view({-1}).mul(scale);
    torch::Tensor y = g_new - g;
    torch::Tensor s = flat_x - x_before;
    const double ys = Dot(y, s);
    if (ys > 1e-10) {
      if (static_cast<int>(history.size()) == options.history_size) history.pop_front();
      history.push_back({s, y, 1.0 / ys});
      h_diag = ys / Dot(y, y);
    }
    const double f_previous = f_scaled;
    g = g_new;
    f_scaled = f_new * scale;
    outcome.final_loss = f_new;
    if (options.tolerance_change > 0 &&
        std::fabs(f_scaled - f_previous) <= options.tolerance_change * std::fabs(f_previous)) {
      outcome.stop_reason = "tolerance";
      return outcome;
    }
    d = Direction(g, history, h_diag);
    t = options.learning_rate;
  }
  outcome.stop_reason = "evaluation budget";
  return outcome;
}

}  // namespace stylesweep
