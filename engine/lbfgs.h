// L-BFGS on a tensor of pixels, the way Gatys et al. and neural-style use it:
// a fixed budget of loss evaluations, no tolerance-based early stop unless
// asked, unit steps. Engine-internal (LibTorch).
//
// Robustness on the paper's loss scale (gradients of ~1e7 per pixel): the
// objective handed to the recursion is scaled by 1 / max|initial gradient|
// (normalize), and a step whose loss rises or turns NaN/Inf is halved and
// retried (each retry is an evaluation and counts against the budget).
// All vector work stays on x's device: this is a batch of one of
// MinimizeLbfgsBatch (lbfgs_batch.h) whose state is read after every
// evaluation.
#pragma once

#include <functional>
#include <limits>
#include <string>

#include <torch/types.h>

#include "common/status.h"

namespace stylesweep {

struct LbfgsOptions {
  int max_evaluations = 500;     // loss evaluations, the run's iteration count
  int history_size = 100;        // correction pairs kept
  double learning_rate = 1.0;    // step length multiplier (1: plain L-BFGS)
  double tolerance_change = 0.0; // stop when |f_k - f_{k-1}| <= tolerance * |f_{k-1}|; 0: never
  // Convergence over a window of accepted steps: after accepted step k >= W
  // (W = stop_window), stop when f_{k-W} - f_k <= stop_tolerance * |f_{k-W}|
  // (f_k: the loss after accepted step k, f_0 the start's). Trials rejected
  // and halved after an overshoot do not count, so a job backtracking is never
  // taken for converged; with every step accepted the earliest stop is
  // evaluation W + 1. The decision uses only loss values, so ranks that see
  // the same losses stop at the same evaluation. 0: never.
  double stop_tolerance = 0.0;
  int stop_window = 20;          // accepted steps the improvement is measured over
  bool normalize = true;         // scale f and g by 1 / max|g_0|
  int max_backtracks = 8;        // step halvings tried when the loss rises or is not finite
  // Box on every variable (projected L-BFGS): each trial point is clamped
  // into [lower_bound, upper_bound], the correction pair is the step actually
  // taken, and a direction's components that push a variable sitting on a
  // bound outwards are dropped. Both infinite (the default): unconstrained.
  double lower_bound = -std::numeric_limits<double>::infinity();
  double upper_bound = std::numeric_limits<double>::infinity();
};

// Evaluates the objective at `x`: returns the loss and writes its gradient
// (same shape as x) to `grad`. A non-OK status (cancelled, out of memory)
// ends the minimisation with that status.
using Objective = std::function<Result<double>(const torch::Tensor& x, torch::Tensor& grad)>;

struct LbfgsOutcome {
  int evaluations = 0;
  double final_loss = 0;       // objective value at the returned x, unscaled
  std::string stop_reason;     // "evaluation budget", "tolerance", "converged" (stop_tolerance), "no progress"
};

// Minimises `objective` starting from `x`, updating `x` in place to the best
// point accepted. Errors: the objective's status, or kNumericalError when the
// loss is NaN/Inf at the start or cannot be made finite by halving the step.
Result<LbfgsOutcome> MinimizeLbfgs(torch::Tensor& x, const Objective& objective, const LbfgsOptions& options);

}  // namespace stylesweep
