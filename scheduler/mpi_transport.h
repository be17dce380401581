// The MPI side of the scheduler. Rank 0 is the coordinator and talks to the
// workers through MpiTransport; ranks 1..N-1 run RunMpiWorker. Messages are
// the wire format (wire.h) sent as MPI_BYTE with the tags defined there;
// sizes come from MPI_Probe / MPI_Get_count, so results (images included)
// reach the coordinator whether or not the ranks share a filesystem.
//
// Both sides poll (MPI_Iprobe with short sleeps) instead of blocking, so
// they see stop requests and leave the CPU to the ranks doing work.
// Threading: MPI_THREAD_FUNNELED is enough; every MPI call is made by the
// thread that calls these functions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include "scheduler/job_executor.h"
#include "scheduler/transport.h"
#include "scheduler/wire.h"

namespace stylesweep {

// The point-to-point steps both transports' loops (and the band followers,
// band_executor.h) are made of. Each returns kUnavailable naming the MPI call
// and MPI's reason when a call fails (the communicator must use
// MPI_ERRORS_RETURN for a failure to come back rather than abort).
//
// Probes for a message from `source` until one arrives or `timeout_seconds`
// pass (negative: forever). Sleeps grow from 20 us to `max_sleep_us` so an
// idle rank costs almost no CPU and a busy one answers within microseconds.
// True when a message arrived (described by `status`), false on timeout.
Result<bool> PollMessage(MPI_Comm comm, int source, double timeout_seconds, int max_sleep_us, MPI_Status* status);
// Receives the message `probed` describes, as bytes.
Result<std::string> ReceiveBytes(MPI_Comm comm, const MPI_Status& probed);
// Sends `bytes` (empty for a bare tag) to `destination` with `tag`.
Status SendBytes(MPI_Comm comm, const std::string& bytes, int destination, int tag);

// Coordinator side, on rank 0 of `comm`. Workers are `worker_ranks` (worker
// w is rank worker_ranks[w]); empty: ranks 1..size-1. Only the workers talk
// to the coordinator (with devices_per_job, the group leaders).
class MpiTransport : public Transport {
 public:
  explicit MpiTransport(MPI_Comm comm, std::vector<int> worker_ranks = {});

  int num_workers() const override { return static_cast<int>(worker_ranks_.size()); }
  Status Assign(int worker, const JobAssignment& assignment) override;
  Status AssignBatch(int worker, const std::vector<JobAssignment>& assignments) override;
  Result<WorkerEvent> Next(double timeout_seconds) override;
  void StopWorkers() override;
  void MarkLost(int worker) override;

  // Stops the workers and waits, up to `timeout_seconds`, until every one has
  // acknowledged (discarding reports that arrive late: their runs were
  // already recorded KILLED); lost workers (MarkLost) are not waited for.
  // Call before MPI_Finalize so that no worker is left blocked sending a
  // large report. Returns false on timeout.
  bool Shutdown(double timeout_seconds);

 private:
  // The worker index of world rank `rank`, or -1.
  int WorkerOf(int rank) const;

  MPI_Comm comm_;
  std::vector<int> worker_ranks_;
  bool stopped_ = false;
  int acknowledged_ = 0;  // workers that answered kTagStop
  std::vector<bool> lost_;  // by worker index: MarkLost was called
};

// Worker side, on ranks 1..size-1: announces itself (kTagReady with `hello`),
// then runs assignments until kTagStop, which it acknowledges with an empty
// kTagStop of its own before returning. A job's failure is reported, never
// fatal. `should_stop` (the signal flag) cancels a running job; the worker
// then reports it and waits for the coordinator's stop. While a job runs
// the worker sends kTagHeartbeat at most every kHeartbeatIntervalSeconds
// (from `should_stop`'s polls, between optimiser iterations).
// Fails only when a message from the coordinator cannot be decoded.
Status RunMpiWorker(MPI_Comm comm, JobExecutor& executor, const WorkerHello& hello,
                    const std::function<bool()>& should_stop);

}  // namespace stylesweep
