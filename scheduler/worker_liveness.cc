#include "scheduler/worker_liveness.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace stylesweep {

Result<double> ParseWorkerTimeout(const std::string& text) {
  const std::string rule = "--worker-timeout takes a duration such as 90s, 5m or 1h";
  if (text.empty()) return Status::InvalidArgument(rule + ", not an empty value");
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || errno != 0 || !std::isfinite(number)) {
    return Status::InvalidArgument(rule + ", not '" + text + "'");
  }
  const std::string unit(end);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  else return Status::InvalidArgument(rule + ": unknown unit '" + unit + "' in '" + text + "' (use s, m or h)");
  const double seconds = number * scale;
  const double minimum = kMinTimeoutHeartbeats * kHeartbeatIntervalSeconds;
  if (seconds < minimum) {
    char buffer[160];
    std::snprintf(buffer, sizeof(buffer),
                  "--worker-timeout %s is too short: at least %.0fs (%d heartbeat intervals of %.0fs)", text.c_str(),
                  minimum, kMinTimeoutHeartbeats, kHeartbeatIntervalSeconds);
    return Status::InvalidArgument(buffer);
  }
  return seconds;
}

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
