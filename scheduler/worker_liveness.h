// WorkerLiveness: which workers the coordinator still hears from. A worker
// running a job sends a heartbeat (wire.h, kTagHeartbeat) at most every
// kHeartbeatIntervalSeconds, between optimiser iterations; every message
// from a worker (hello, heartbeat, report) counts as hearing from it. A
// worker that holds jobs and has been silent for longer than the timeout is
// lost: the coordinator records its jobs KILLED, gives them to the others
// and ignores anything it sends afterwards (docs/CLUSTER.md, "Losing a
// node"). An idle worker is not watched: it owes no messages.
//
// The clock is injected (seconds, any origin) so tests can drive time.
// Threading: one thread (the coordinator's).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "scheduler/worker_timeout.h"

namespace stylesweep {

class WorkerLiveness {
 public:
  using NowFn = std::function<double()>;  // seconds on a monotonic clock

  // `timeout_seconds` <= 0: nobody is ever declared lost. `now` empty: the
  // steady clock.
  WorkerLiveness(int num_workers, double timeout_seconds, NowFn now = {});

  // Any message from `worker` arrived.
  void Heard(int worker);
  // `worker` got jobs (busy) or has none left (idle). Becoming busy counts
  // as hearing from it: the silence is measured from the assignment.
  void SetBusy(int worker, bool busy);
  // Busy workers silent for longer than the timeout, not yet lost; they are
  // lost from now on (each is returned once).
  std::vector<int> NewlyLost();

  bool lost(int worker) const { return workers_.at(worker).lost; }
  int num_lost() const;
  // Seconds since `worker` was last heard from.
  double silence(int worker) const;
  double timeout_seconds() const { return timeout_seconds_; }

 private:
  struct State {
    double last_heard = 0;
    bool busy = false;
    bool lost = false;
  };
  double Now() const;

  double timeout_seconds_;
  NowFn now_;
  std::vector<State> workers_;
};

}  // namespace stylesweep
