#include "scheduler/worker_liveness.h"


namespace stylesweep {

WorkerLiveness::WorkerLiveness(int num_workers, double timeout_seconds, NowFn now)
    : timeout_seconds_(timeout_seconds), now_(std::move(now)), workers_(static_cast<std::size_t>(num_workers)) {
  const double start = Now();
  for (State& state : workers_) state.last_heard = start;
}

double WorkerLiveness::Now() const {
  if (now_) return now_();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void WorkerLiveness::Heard(int worker) { workers_.at(worker).last_heard = Now(); }

void WorkerLiveness::SetBusy(int worker, bool busy) {
  State& state = workers_.at(worker);
  if (busy && !state.busy) state.last_heard = Now();
  state.busy = busy;
}

std::vector<int> WorkerLiveness::NewlyLost() {
  std::vector<int> lost;
  if (timeout_seconds_ <= 0) return lost;
  const double now = Now();
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    State& state = workers_[w];
    if (state.lost || !state.busy || now - state.last_heard <= timeout_seconds_) continue;
    state.lost = true;
    lost.push_back(static_cast<int>(w));
  }
  return lost;
}

int WorkerLiveness::num_lost() const {
  int count = 0;
  for (const State& state : workers_) count += state.lost ? 1 : 0;
  return count;
}

double WorkerLiveness::silence(int worker) const { return Now() - workers_.at(worker).last_heard; }

}  // namespace stylesweep
