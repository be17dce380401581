#include "engine/lbfgs_batch.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace stylesweep {
namespace {

// Why a job stopped; kRunning while it goes on. Kept on the device.
enum StopCode : int64_t {
  kRunning = 0,
  kBudget = 1,
  kTolerance = 2,
  kNoProgress = 3,
  kNanAfterHalving = 4,
  kNanAtStart = 5,
  kHostError = 6,  // the objective ended the job (job_errors)
  kConverged = 7,  // improved by less than stop_tolerance over stop_window accepted steps
};

// Row-wise dot products of two [B, N] tensors, as float64 [B]. On the CPU
// one BLAS dot per row (measured at N = 3x256x256 on LibTorch 1.13: 0.04 ms,
// against 0.18 ms for (a * b).sum(1) and 0.6 ms for a [B,1,N] x [B,N,1]
// bmm); on CUDA one fused multiply-sum for all rows (one launch).
torch::Tensor RowDot(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.is_cuda()) return (a * b).sum(1).to(torch::kFloat64);
  std::vector<torch::Tensor> dots;
  for (int64_t row = 0; row < a.size(0); ++row) dots.push_back(a[row].dot(b[row]));
  return torch::stack(dots).to(torch::kFloat64);
}

torch::Tensor Column(const torch::Tensor& per_job, const torch::Tensor& like) {
  return per_job.to(like.scalar_type()).unsqueeze(1);
}

// The per-job state of the batch, all on x's device. Rows are jobs.
class BatchState {
 public:
  BatchState(const torch::Tensor& flat_x, const LbfgsOptions& options, bool history_views)
      : options_(options),
        history_views_(history_views),
        bounded_(std::isfinite(options.lower_bound) || std::isfinite(options.upper_bound)),
        batch_(flat_x.size(0)),
        width_(flat_x.size(1)) {
    const auto device = flat_x.device();
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    // At most max_evaluations - 1 pairs are ever pushed: a smaller ring
    // behaves identically and saves memory on short runs.
    capacity_ = std::max(1, std::min(options.history_size, options.max_evaluations));
    s_ = torch::zeros({capacity_ * batch_, width_}, flat_x.options());
    y_ = torch::zeros({capacity_ * batch_, width_}, flat_x.options());
    rho_ = torch::zeros({capacity_ * batch_}, f64);
    head_ = torch::zeros({batch_}, i64);
    count_ = torch::zeros({batch_}, i64);
    h_diag_ = torch::ones({batch_}, f64);
    rows_ = torch::arange(batch_, i64);
    attempt_ = torch::zeros({batch_}, i64);
    reason_ = torch::zeros({batch_}, i64);
    end_evaluation_ = torch::zeros({batch_}, i64);
    steps_ = torch::zeros({batch_}, i64);
    if (options.stop_tolerance > 0) window_ = torch::zeros({std::max(1, options.stop_window), batch_}, f64);
  }

  // The first evaluation: scale, scaled loss and gradient, first direction
  // and step. Jobs whose start is not finite stop with kNanAtStart.
  void Start(const torch::Tensor& flat_x, const torch::Tensor& loss, const torch::Tensor& flat_grad,
             torch::Tensor& active) {
    torch::Tensor f = loss.to(torch::kFloat64);
    torch::Tensor finite = torch::isfinite(f) & torch::isfinite(flat_grad).all(1);
    scale_ = torch::ones_like(f);
    if (options_.normalize) {
      torch::Tensor max_grad = flat_grad.abs().amax(1).to(torch::kFloat64);
      scale_ = torch::where(max_grad > 0, max_grad.reciprocal(), scale_);
    }
    g_ = flat_grad.mul(Column(scale_, flat_grad));
    f_scaled_ = f * scale_;
    final_loss_ = f;
    d_ = g_.neg();
    t_ = FirstStep();
    x_before_ = flat_x.clone();
    RememberLoss(torch::ones_like(active));
    Stop(active & ~finite, kNanAtStart, 1, active);
    BeginIteration(active);
  }

  // Places the next trial point of every running job in `flat_x`.
  void Trial(torch::Tensor& flat_x, const torch::Tensor& active) const {
    torch::Tensor trial = torch::addcmul(x_before_, d_, Column(t_, d_));
    if (bounded_) trial = trial.clamp(options_.lower_bound, options_.upper_bound);
    flat_x.copy_(torch::where(active.unsqueeze(1), trial, flat_x));
  }

  // Accepts or halves each running job's step after an evaluation, updates
  // histories and directions and stops jobs that are done. `evaluations`
  // counts every evaluation so far; `bound` bounds the jobs' history lengths.
  void AfterEvaluation(torch::Tensor& flat_x, const torch::Tensor& loss, const torch::Tensor& flat_grad,
                       int evaluations, int bound, torch::Tensor& active) {
    torch::Tensor f_new = loss.to(torch::kFloat64);
    torch::Tensor finite = torch::isfinite(f_new) & torch::isfinite(flat_grad).all(1);
    torch::Tensor accept = active & finite & (f_new * scale_ <= f_scaled_);
    torch::Tensor reject = active & ~accept;
    torch::Tensor exhausted = reject & (attempt_ == options_.max_backtracks);
    // A quasi-Newton direction that no halving made descend starts over from
    // steepest descent with an empty history (RestartFromSteepestDescent);
    // only a steepest-descent step that fails as well ends the job.
    torch::Tensor restart = exhausted & (count_ > 0);
    exhausted = exhausted & ~restart;
    torch::Tensor nan_error = exhausted & ~finite;
    torch::Tensor no_progress = exhausted & finite;

    // Accepted steps: a new correction pair (when curvature is positive).
    torch::Tensor g_new = flat_grad.mul(Column(scale_, flat_grad));
    torch::Tensor y = g_new - g_;
    torch::Tensor s = flat_x - x_before_;
    torch::Tensor ys = RowDot(y, s);
    torch::Tensor yy = RowDot(y, y);
    torch::Tensor push = accept & (ys > 1e-10);
    torch::Tensor slot = head_ * batch_ + rows_;
    torch::Tensor push_column = push.unsqueeze(1);
    s_.index_copy_(0, slot, torch::where(push_column, s, s_.index_select(0, slot)));
    y_.index_copy_(0, slot, torch::where(push_column, y, y_.index_select(0, slot)));
    rho_.index_copy_(0, slot, torch::where(push, ys.reciprocal(), rho_.index_select(0, slot)));
    head_ = torch::where(push, torch::remainder(head_ + 1, capacity_), head_);
    count_ = torch::where(push, (count_ + 1).clamp_max(capacity_), count_);
    h_diag_ = torch::where(push, ys / yy, h_diag_);

    torch::Tensor f_previous = f_scaled_;
    torch::Tensor accept_column = accept.unsqueeze(1);
    g_ = torch::where(accept_column, g_new, g_);
    f_scaled_ = torch::where(accept, f_new * scale_, f_scaled_);
    final_loss_ = torch::where(accept, f_new, final_loss_);
    steps_ = steps_ + accept.to(torch::kInt64);

    // Stops: NaN that halving cannot fix, no progress, tolerance, budget.
    // A job stopped without an accepted last step returns to its best point.
    torch::Tensor tolerance_stop = torch::zeros_like(accept);
    if (options_.tolerance_change > 0) {
      tolerance_stop = accept & ((f_scaled_ - f_previous).abs() <= (f_previous.abs() * options_.tolerance_change));
    }
    torch::Tensor restore = nan_error | no_progress;
    Stop(nan_error, kNanAfterHalving, evaluations, active);
    Stop(no_progress, kNoProgress, evaluations, active);
    Stop(tolerance_stop, kTolerance, evaluations, active);
    Stop(Converged(accept, active), kConverged, evaluations, active);
    RememberLoss(accept);
    if (evaluations >= options_.max_evaluations) {
      restore = restore | (active & ~accept);
      Stop(active.clone(), kBudget, evaluations, active);
    }
    flat_x.copy_(torch::where(restore.unsqueeze(1), x_before_, flat_x));

    // Running jobs: a rejected step is halved, an accepted one starts the
    // next iteration from the new direction.
    torch::Tensor halve = active & ~accept & ~restart;
    t_ = torch::where(halve, t_ * 0.5, t_);
    attempt_ = torch::where(halve, attempt_ + 1, attempt_);
    RestartFromSteepestDescent(restart & active);
    torch::Tensor next = active & accept;
    d_ = torch::where(next.unsqueeze(1), Direction(bound), d_);
    t_ = torch::where(next, torch::full_like(t_, options_.learning_rate), t_);
    attempt_ = torch::where(next, torch::zeros_like(attempt_), attempt_);
    x_before_ = torch::where(next.unsqueeze(1), flat_x, x_before_);
    BeginIteration(next);
  }

  // Stops the jobs of host mask `jobs` with kHostError, back at their best point.
  void StopFromHost(const torch::Tensor& jobs, int evaluations, torch::Tensor& flat_x, torch::Tensor& active) {
    torch::Tensor stopping = jobs & active;
    flat_x.copy_(torch::where(stopping.unsqueeze(1), x_before_, flat_x));
    Stop(stopping, kHostError, evaluations, active);
  }

  // Ends every running job with kBudget (the evaluation loop is over).
  void StopRemaining(int evaluations, torch::Tensor& active) { Stop(active.clone(), kBudget, evaluations, active); }

  // One transfer: per job running flag, stop code, evaluations, history length.
  torch::Tensor HostSummary(const torch::Tensor& active) const {
    return torch::stack({active.to(torch::kInt64), reason_, end_evaluation_, count_}).to(torch::kCPU);
  }

  torch::Tensor final_loss() const { return final_loss_; }
  int capacity() const { return capacity_; }

 private:
  void Stop(const torch::Tensor& jobs, StopCode code, int evaluations, torch::Tensor& active) {
    reason_ = torch::where(jobs, torch::full_like(reason_, static_cast<int64_t>(code)), reason_);
    end_evaluation_ = torch::where(jobs, torch::full_like(end_evaluation_, evaluations), end_evaluation_);
    active = active & ~jobs;
  }

  // The running jobs that just took an accepted step whose loss improved by
  // less than stop_tolerance (relative) over their last stop_window accepted
  // steps; none before a job has taken that many. Trials that were rejected
  // and halved do not count: a job backtracking after an overshoot has not
  // converged, however long its best loss stands still.
  torch::Tensor Converged(const torch::Tensor& accept, const torch::Tensor& active) const {
    if (!window_.defined()) return torch::zeros_like(active);
    const torch::Tensor before = window_.gather(0, WindowRow()).squeeze(0);
    return active & accept & (steps_ >= options_.stop_window) &
           ((before - f_scaled_) <= before.abs() * options_.stop_tolerance);
  }
  // Keeps the best loss after each accepted step (`accept`) for Converged().
  void RememberLoss(const torch::Tensor& accept) {
    if (!window_.defined()) return;
    const torch::Tensor row = WindowRow();
    const torch::Tensor kept = torch::where(accept, f_scaled_, window_.gather(0, row).squeeze(0));
    window_.scatter_(0, row, kept.unsqueeze(0));
  }
  // [1, B]: each job's row of window_ for its current accepted-step count.
  torch::Tensor WindowRow() const { return torch::remainder(steps_, window_.size(0)).unsqueeze(0); }

  // First step as in Torch's optim.lbfgs: t = min(1, 1/|g|_1) * lr.
  torch::Tensor FirstStep() const {
    return g_.abs().sum(1).to(torch::kFloat64).reciprocal().clamp_max(1.0) * options_.learning_rate;
  }

  // The jobs of `jobs` drop their history and try again from x_before_
  // along steepest descent with the first step's length, as at the start.
  void RestartFromSteepestDescent(const torch::Tensor& jobs) {
    count_ = torch::where(jobs, torch::zeros_like(count_), count_);
    h_diag_ = torch::where(jobs, torch::ones_like(h_diag_), h_diag_);
    d_ = torch::where(jobs.unsqueeze(1), bounded_ ? FeasibleDirection(g_.neg()) : g_.neg(), d_);
    t_ = torch::where(jobs, FirstStep(), t_);
    attempt_ = torch::where(jobs, torch::zeros_like(attempt_), attempt_);
  }

  // Start of an iteration for the jobs of `jobs`: a direction that is not a
  // descent direction restarts from steepest descent with an empty history.
  // With a box, directions are first projected at x_before_ (FeasibleDirection).
  void BeginIteration(const torch::Tensor& jobs) {
    if (bounded_) d_ = torch::where(jobs.unsqueeze(1), FeasibleDirection(d_), d_);
    torch::Tensor reset = jobs & (RowDot(g_, d_) > -1e-30);
    count_ = torch::where(reset, torch::zeros_like(count_), count_);
    h_diag_ = torch::where(reset, torch::ones_like(h_diag_), h_diag_);
    d_ = torch::where(reset.unsqueeze(1), bounded_ ? FeasibleDirection(g_.neg()) : g_.neg(), d_);
  }
  // `direction` without the components that would move a variable sitting
  // on a bound of the box (at x_before_) out of it.
  torch::Tensor FeasibleDirection(const torch::Tensor& direction) const {
    const torch::Tensor blocked = ((x_before_ <= options_.lower_bound) & (direction < 0)) |
                                  ((x_before_ >= options_.upper_bound) & (direction > 0));
    return direction.masked_fill(blocked, 0);
  }

  // The two-loop recursion for every job: d = -H g. `bound` >= every job's
  // history length; entries past a job's length are masked out.
  torch::Tensor Direction(int bound) const {
    const int length = std::min(bound, capacity_);
    torch::Tensor q = g_.neg();
    if (length == 0) return q.mul_(Column(h_diag_, q));
    if (history_views_) return DirectionFromViews(length, q);
    // Ring rows of every job's k-th newest pair ([length, B]) and their rho,
    // zero past a job's history length (so those pairs add nothing).
    torch::Tensor ages = torch::arange(length, head_.options()).unsqueeze(1);
    torch::Tensor slots = (torch::remainder(head_.unsqueeze(0) - 1 - ages, capacity_) * batch_ + rows_).contiguous();
    torch::Tensor rho = torch::where(count_.unsqueeze(0) > ages, rho_.index_select(0, slots.view({-1})).view_as(slots),
                                     torch::zeros({}, rho_.options()));
    std::vector<torch::Tensor> alpha(length);
    for (int k = 0; k < length; ++k) {  // newest first
      alpha[k] = rho[k] * RowDot(s_.index_select(0, slots[k]), q);
      q.addcmul_(y_.index_select(0, slots[k]), Column(alpha[k], q), -1);
    }
    q.mul_(Column(h_diag_, q));
    for (int k = length - 1; k >= 0; --k) {  // oldest first
      torch::Tensor beta = rho[k] * RowDot(y_.index_select(0, slots[k]), q);
      q.addcmul_(s_.index_select(0, slots[k]), Column(alpha[k] - beta, q));
    }
    return q;
  }

  // Direction() with the ring positions and coefficients read on the host:
  // each job's pairs are then views of the history rather than gathered
  // copies, about half the memory traffic. The same arithmetic (float64
  // coefficients applied in x's type); on a GPU every read would be a
  // device synchronisation (HistoryReads in lbfgs_batch.h).
  torch::Tensor DirectionFromViews(int length, torch::Tensor& q) const {
    const torch::Tensor head_host = head_.to(torch::kCPU), count_host = count_.to(torch::kCPU);
    const torch::Tensor rho_host = rho_.to(torch::kCPU), h_diag_host = h_diag_.to(torch::kCPU);
    const auto head = head_host.accessor<int64_t, 1>();
    const auto count = count_host.accessor<int64_t, 1>();
    const auto rho = rho_host.accessor<double, 1>();
    const auto h_diag = h_diag_host.accessor<double, 1>();
    std::vector<double> alpha(length);
    for (int64_t b = 0; b < batch_; ++b) {
      torch::Tensor qb = q[b];
      const int pairs = static_cast<int>(std::min<int64_t>(length, count[b]));
      auto row = [&](int age) { return ((head[b] - 1 - age + capacity_) % capacity_) * batch_ + b; };
      for (int k = 0; k < pairs; ++k) {  // newest first
        const int64_t r = row(k);
        alpha[k] = rho[r] * s_[r].dot(qb).item<double>();
        qb.add_(y_[r], -alpha[k]);
      }
      qb.mul_(h_diag[b]);
      for (int k = pairs - 1; k >= 0; --k) {  // oldest first
        const int64_t r = row(k);
        const double beta = rho[r] * y_[r].dot(qb).item<double>();
        qb.add_(s_[r], alpha[k] - beta);
      }
    }
    return q;
  }

  LbfgsOptions options_;
  bool history_views_;           // DirectionFromViews rather than gathered pairs
  bool bounded_;                 // a finite box: projected trials and directions
  int64_t batch_, width_;
  int capacity_ = 1;
  torch::Tensor s_, y_;          // [capacity * B, N]: row slot * B + b is job b's pair in ring slot `slot`
  torch::Tensor rho_;            // [capacity * B] float64: 1 / (y . s)
  torch::Tensor head_, count_;   // [B] int64: next ring slot to write, pairs held
  torch::Tensor h_diag_;         // [B] float64: initial inverse-Hessian scale
  torch::Tensor rows_;           // [B] int64: 0..B-1
  torch::Tensor scale_;          // [B] float64: 1 / max|g_0| (or 1)
  torch::Tensor f_scaled_;       // [B] float64: scaled loss at the accepted point
  torch::Tensor final_loss_;     // [B] float64: unscaled loss at the accepted point
  torch::Tensor g_, d_;          // [B, N]: scaled gradient at the accepted point, search direction
  torch::Tensor x_before_;       // [B, N]: the accepted point the trials start from
  torch::Tensor t_;              // [B] float64: step length
  torch::Tensor attempt_;        // [B] int64: halvings of the current step
  torch::Tensor reason_;         // [B] int64: StopCode
  torch::Tensor end_evaluation_; // [B] int64: evaluations when the job stopped
  torch::Tensor steps_;          // [B] int64: accepted steps so far
  torch::Tensor window_;         // [stop_window, B] float64: f_scaled_ after accepted step k in row k % stop_window; undefined when the stop is off
};
// One batched minimisation: the objective, the device state and the host's
// view of it (per-job errors, which jobs still run, how long the histories
// are). Lives for one MinimizeLbfgsBatch call; holds references to x and the
// objective, which outlive it.
class BatchMinimization {
 public:
  BatchMinimization(torch::Tensor& x, const BatchObjective& objective, const BatchLbfgsOptions& options)
      : x_(x),
        objective_(objective),
        options_(options),
        batch_(x.size(0)),
        flat_x_(x.view({batch_, -1})),
        grad_(torch::zeros_like(x)),
        flat_grad_(grad_.view({batch_, -1})),
        active_(torch::ones({batch_}, torch::TensorOptions().dtype(torch::kBool).device(x.device()))),
        host_errors_(batch_),
        host_running_(batch_, true) {}

  // Runs the whole minimisation; fails only when the objective fails as a
  // whole or on_sync fails. Per-job failures land in the job's result.
  Result<std::vector<BatchLbfgsJobResult>> Run() {
    SS_ASSIGN_OR_RETURN(torch::Tensor first_loss, Evaluate(nullptr));
    const bool history_views = options_.history_reads == HistoryReads::kViews ||
                               (options_.history_reads == HistoryReads::kAuto && x_.device().is_cpu());
    BatchState state(flat_x_, options_.lbfgs, history_views);
    state.Start(flat_x_, first_loss.view({batch_}), flat_grad_, active_);
    StopJobsEndedBeforeStart(state);
    SS_RETURN_IF_ERROR(Iterate(state));
    return Results(state);
  }

 private:
  // One evaluation; jobs the objective ends are stopped (state is null on the
  // first one, before Start: those jobs are stopped by StopJobsEndedBeforeStart).
  Result<torch::Tensor> Evaluate(BatchState* state) {
    std::vector<Status> job_errors(batch_);
    auto loss = objective_(x_, grad_, active_, job_errors);
    ++evaluations_;
    if (!loss.ok()) return loss.status();
    std::vector<uint8_t> stop(batch_, 0);
    bool any = false;
    for (int64_t b = 0; b < batch_; ++b) {
      if (job_errors[b].ok() || !host_running_[b]) continue;
      host_errors_[b] = job_errors[b];
      host_running_[b] = false;
      stop[b] = 1;
      any = true;
    }
    if (any && state != nullptr) {
      torch::Tensor mask =
          torch::tensor(std::vector<int64_t>(stop.begin(), stop.end())).to(x_.device()).to(torch::kBool);
      state->StopFromHost(mask, evaluations_, flat_x_, active_);
    }
    return loss;
  }

  void StopJobsEndedBeforeStart(BatchState& state) {
    std::vector<int64_t> stop;
    for (int64_t b = 0; b < batch_; ++b) stop.push_back(host_running_[b] ? 0 : 1);
    state.StopFromHost(torch::tensor(stop).to(x_.device()).to(torch::kBool), evaluations_, flat_x_, active_);
  }

  // Refreshes the host view of the state (done every sync_every evaluations);
  // returns whether any job still runs.
  Result<bool> Sync(BatchState& state) {
    const torch::Tensor summary = state.HostSummary(active_);
    const auto rows = summary.accessor<int64_t, 2>();
    bool any_running = false;
    int64_t longest = 0;
    for (int64_t b = 0; b < batch_; ++b) {
      any_running = any_running || rows[0][b] != 0;
      longest = std::max(longest, rows[3][b]);
    }
    history_bound_ = static_cast<int>(longest);
    last_sync_ = evaluations_;
    if (options_.on_sync) SS_RETURN_IF_ERROR(options_.on_sync());
    return any_running;
  }

  // Trial steps until every job stops or the evaluation budget is spent.
  Status Iterate(BatchState& state) {
    const LbfgsOptions& lbfgs = options_.lbfgs;
    const int sync_every = std::max(1, options_.sync_every);
    last_sync_ = evaluations_;
    SS_ASSIGN_OR_RETURN(bool running, Sync(state));
    while (running && evaluations_ < lbfgs.max_evaluations) {
      state.Trial(flat_x_, active_);
      SS_ASSIGN_OR_RETURN(torch::Tensor loss, Evaluate(&state));
      const int bound = history_bound_ + (evaluations_ - last_sync_);
      state.AfterEvaluation(flat_x_, loss.view({batch_}), flat_grad_, evaluations_, bound, active_);
      if (evaluations_ - last_sync_ >= sync_every || evaluations_ >= lbfgs.max_evaluations) {
        SS_ASSIGN_OR_RETURN(running, Sync(state));
      }
    }
    state.StopRemaining(evaluations_, active_);
    SS_ASSIGN_OR_RETURN(running, Sync(state));
    return Status::Ok();
  }

  // Each job's outcome from the stopped state.
  std::vector<BatchLbfgsJobResult> Results(BatchState& state) const {
    std::vector<BatchLbfgsJobResult> results(batch_);
    const torch::Tensor summary = state.HostSummary(active_);
    const torch::Tensor final_loss = state.final_loss().to(torch::kCPU);
    const auto rows = summary.accessor<int64_t, 2>();
    const auto losses = final_loss.accessor<double, 1>();
    for (int64_t b = 0; b < batch_; ++b) {
      BatchLbfgsJobResult& result = results[b];
      const int end = static_cast<int>(rows[2][b]);
      result.outcome.evaluations = end;
      result.outcome.final_loss = losses[b];
      DescribeStop(rows[1][b], end, b, result);
    }
    return results;
  }

  void DescribeStop(int64_t code, int end, int64_t b, BatchLbfgsJobResult& result) const {
    switch (code) {
      case kNanAtStart:
        result.status = Status::NumericalError("the loss or its gradient is NaN/Inf at the starting image");
        break;
      case kNanAfterHalving:
        result.status = Status::NumericalError("the loss became NaN/Inf at evaluation " + std::to_string(end) +
                                               " and halving the step " +
                                               std::to_string(options_.lbfgs.max_backtracks) +
                                               " times did not help");
        break;
      case kHostError: result.status = host_errors_[b]; break;
      case kTolerance: result.outcome.stop_reason = "tolerance"; break;
      case kConverged: result.outcome.stop_reason = "converged"; break;
      case kNoProgress: result.outcome.stop_reason = "no progress"; break;
      default: result.outcome.stop_reason = "evaluation budget"; break;
    }
  }

  torch::Tensor& x_;
  const BatchObjective& objective_;
  const BatchLbfgsOptions& options_;
  const int64_t batch_;
  torch::Tensor flat_x_;                // [B, N] view of x
  torch::Tensor grad_, flat_grad_;      // gradient the objective writes, and its [B, N] view
  torch::Tensor active_;                // [B] bool: jobs still running
  std::vector<Status> host_errors_;     // first error the objective gave each job
  std::vector<bool> host_running_;      // jobs the objective has not ended
  int evaluations_ = 0;                 // objective calls so far
  int history_bound_ = 0;               // >= every job's history length at the last sync
  int last_sync_ = 0;                   // evaluations at the last sync
};

}  // namespace

Result<std::vector<BatchLbfgsJobResult>> MinimizeLbfgsBatch(torch::Tensor& x, const BatchObjective& objective,
                                                            const BatchLbfgsOptions& options) {
  torch::NoGradGuard no_grad;
  if (options.lbfgs.max_evaluations <= 0) {
    std::vector<BatchLbfgsJobResult> results(x.size(0));
    for (auto& result : results) result.outcome.stop_reason = "evaluation budget";
    return results;
  }
  TORCH_CHECK(x.is_contiguous(), "MinimizeLbfgsBatch needs a contiguous x");
  BatchMinimization minimization(x, objective, options);
  return minimization.Run();
}

}  // namespace stylesweep
