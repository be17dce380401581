// L-BFGS for a batch of independent problems that share one objective call,
// with every decision on x's device. Engine-internal (LibTorch).
//
// x is [B, ...]: row b is job b's variables. One objective evaluation gives
// all B losses and gradients (for style transfer: one forward/backward of the
// backbone for B images). Each job keeps its own L-BFGS state: scale
// (normalize), loss, step length, backtracking count, correction history
// (a ring buffer per job) and stop reason. The rules are those of
// MinimizeLbfgs (lbfgs.h), per job: first step min(1, 1/|g|_1) * lr, a step
// whose loss rises or is NaN/Inf is halved and retried (each retry is an
// evaluation), a non-descent direction restarts from steepest descent.
//
// No host synchronisation inside an evaluation on a GPU: the accept/halve
// decision, the two-loop recursion (alpha, beta, rho as device tensors) and
// the stop rules are masked tensor operations. (On the CPU, where a host read
// costs nothing, the recursion reads the ring positions directly: see
// HistoryReads.) The host reads the optimiser's state
// (which jobs still run) once every `sync_every` evaluations and at the end.
// A job that stops (budget, tolerance, no progress, NaN) is frozen at its
// best point while the others go on; since the host learns of it only at the
// next read, up to sync_every - 1 further evaluations may include it, and
// their values are ignored (`active` tells the objective which rows count).
#pragma once

#include <functional>
#include <vector>

#include <torch/types.h>

#include "common/status.h"
#include "engine/lbfgs.h"

namespace stylesweep {

// How the two-loop recursion reads each job's correction pairs from the
// ring buffer. kGather: index_select copies driven by device tensors, no
// host synchronisation. kViews: the ring positions and coefficients are read
// on the host and the pairs used in place, without copying them (about half
// kGather's memory traffic; on the CPU at 3x256x256, history 100, 30-40%
// less time per evaluation, docs/BENCHMARKS.md), but with a synchronisation
// per pair on a GPU. kAuto: kViews on the CPU, kGather elsewhere. Both give
// the same result (LbfgsBatch.HistoryReadsAgree).
enum class HistoryReads { kAuto, kGather, kViews };

struct BatchLbfgsOptions {
  LbfgsOptions lbfgs;   // shared by every job of the batch
  int sync_every = 20;  // evaluations between host reads of the state; 1: after every evaluation
  HistoryReads history_reads = HistoryReads::kAuto;
  // Called after every host read of the state (and once at the end), on the
  // calling thread: a point where reading device values costs no extra
  // synchronisation. A non-OK status ends every job with it. May be empty.
  std::function<Status()> on_sync;
};

// Evaluates every job at `x` ([B, ...]): writes the gradient of each job's
// loss with respect to its own row into `grad` (x's shape) and returns the B
// unscaled losses as a [B] floating tensor on x's device (NaN/Inf allowed).
// `active` ([B] bool, x's device) marks the rows whose evaluation counts;
// the others are frozen and their values are ignored. `job_errors` has B OK
// entries on entry; setting entry b to an error (e.g. kCancelled) ends job b
// with that status at its best point so far. A non-OK return ends every job.
using BatchObjective = std::function<Result<torch::Tensor>(const torch::Tensor& x, torch::Tensor& grad,
                                                           const torch::Tensor& active,
                                                           std::vector<Status>& job_errors)>;

// What became of one job of the batch: its outcome, or kNumericalError when
// its loss is NaN/Inf at the start or cannot be made finite by halving, or
// the status its objective row was ended with.
struct BatchLbfgsJobResult {
  Status status;
  LbfgsOutcome outcome;  // meaningful when status is OK
};

// Minimises every job of `x` in place (each row ends at its best accepted
// point). Returns one result per job, or the objective's error for all.
Result<std::vector<BatchLbfgsJobResult>> MinimizeLbfgsBatch(torch::Tensor& x, const BatchObjective& objective,
                                                            const BatchLbfgsOptions& options);

}  // namespace stylesweep
