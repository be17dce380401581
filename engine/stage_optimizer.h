// Drives one stage's optimiser over a batch of jobs: batched L-BFGS
// (lbfgs_batch.h) or Adam, with the same objective contract for both.
// Engine-internal (LibTorch).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "engine/lbfgs.h"
#include "engine/lbfgs_batch.h"
#include "engine/style_options.h"

namespace stylesweep {

struct StageOptimizerOptions {
  std::string optimizer = "lbfgs";  // "lbfgs" or "adam"
  int num_iterations = 500;         // objective evaluations this stage
  int lbfgs_history = 100;          // correction pairs kept
  double lbfgs_tolerance = 0.0;     // relative loss change that stops a job; 0: never
  double stop_tolerance = 0.0;      // L-BFGS: relative improvement over stop_window accepted steps that stops a job; 0: never
  int stop_window = 20;             // accepted steps (evaluations whose loss was kept)
  bool normalize_objective = true;  // L-BFGS sees the loss scaled by 1 / max|g_0|
  double learning_rate = 10.0;      // Adam step size on the 0..255 scale
  int sync_every = 20;              // L-BFGS: evaluations between host reads of its state
  int iterations_before = 0;        // evaluations of earlier stages, to number Adam's errors
  bool bounded = false;             // keep x in [lower_bound, upper_bound]: projected L-BFGS, Adam clamped after each step
  double lower_bound = 0.0;
  double upper_bound = 255.0;
};

// The optimiser settings of stage `stage_index` of a run with options `o`
// (EffectiveStages(o)[stage_index]'s iteration count, the run's optimiser,
// tolerances, stop and pixel bounds). Every way of running a stage (batched,
// band split) builds its options here, so a setting cannot reach one and not
// the other. sync_every and iterations_before are the caller's to set.
// `stage_index` must be below EffectiveStages(o).size().
StageOptimizerOptions StageOptionsFor(const StyleOptions& o, size_t stage_index);

// The single-job L-BFGS options (lbfgs.h) these stage options stand for.
LbfgsOptions LbfgsOptionsFor(const StageOptimizerOptions& options);

// What became of a stage.
struct StageOutcome {
  // Non-OK when the objective failed for every job at once (then `jobs`
  // holds that status for every job too).
  Status all;
  std::vector<Status> jobs;  // one per job: OK, or why it stopped
  // One per job when OK: why it stopped ("evaluation budget", "converged",
  // "tolerance", "no progress"; Adam: "evaluation budget") and after how
  // many evaluations of this stage.
  std::vector<std::string> stop_reasons;
  std::vector<int> evaluations;
};

// The name a run's result gives an optimiser's stop reason: "evaluation
// budget" is "iterations done"; the others keep theirs.
std::string RunStopReason(const std::string& optimizer_reason);

// Minimises `objective` from `x` ([B, ...], updated in place to each job's
// result). `on_sync` is called after every host read of the optimiser's
// state and at the end (after every evaluation for Adam), may be empty, and
// a non-OK status from it is returned at once. Job statuses: L-BFGS's own
// (kNumericalError when its loss cannot be made finite), or what the
// objective put in job_errors; Adam stops every job at the first NaN/Inf
// loss with kNumericalError "the loss became NaN/Inf at iteration N".
Result<StageOutcome> OptimizeStage(torch::Tensor& x, const BatchObjective& objective,
                                   const StageOptimizerOptions& options, const std::function<Status()>& on_sync);

}  // namespace stylesweep
