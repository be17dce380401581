// The workers of a sweep with devices_per_job N > 1 (worker_groups.h): each
// job runs on a group of N ranks as one band split (engine/band_transfer.h),
// one device per rank.
//
// The group's leader is the coordinator's worker: RunMpiWorker drives a
// BandSplitExecutor, whose Execute hands the job to the group's other ranks
// (kTagJob on the group communicator) and then runs it with them. Those
// ranks run RunBandFollower until the leader sends kTagStop
// (BandSplitExecutor::StopFollowers). Only the leader reports; a follower
// logs its own failure to stderr (the leader's report names the rank).
//
// A stop request on any rank (the coordinator's stop reaching the leader, a
// signal on a follower) cancels the job on every rank at its next
// evaluation. Threading: one thread per rank, the one that calls MPI.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <mpi.h>

#include "scheduler/engine_executor.h"
#include "scheduler/job_executor.h"

namespace stylesweep {

class BandSplitGroup;
class JobScorer;

class BandSplitExecutor : public JobExecutor {
 public:
  // Collective over `group` with RunBandFollower on the other ranks (they
  // exchange their GPUs). This rank must be rank 0 of `group`, which must
  // outlive the object.
  BandSplitExecutor(MPI_Comm group, EngineExecutorOptions options);
  ~BandSplitExecutor() override;

  // Runs `job` on every rank of the group: device "cpu" on each, "cuda" on
  // each rank's own GPU (ResolveJobDevice by local rank). outcome.device lists
  // the group's devices ("cuda:1,cuda:2"); memory/estimate_bytes is the
  // per-device estimate, memory/peak_bytes this rank's device's peak.
  Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) override;

  // Tells the followers to leave RunBandFollower. Call once, after the
  // worker loop has ended. kUnavailable when a follower cannot be told.
  Status StopFollowers();

  // The GPUs of the group's ranks, joined ("cuda:1,cuda:2"; "cpu,cpu"
  // without GPUs): the worker's hello.
  std::string GroupGpus() const;

 private:
  MPI_Comm group_;
  EngineExecutorOptions options_;
  std::vector<std::string> gpus_;  // per group rank
  Status setup_error_;             // the GPU exchange's failure, returned by every Execute
  std::unique_ptr<BandSplitGroup> runner_;
  std::unique_ptr<JobScorer> scorer_;  // the leader scores each finished job
};

// A follower rank (rank > 0 of `group`): runs each job the leader sends with
// it until the leader's kTagStop. `should_stop` (the signal flag) cancels a
// running job on every rank. Fails on a message it cannot decode or an MPI
// call that fails (kUnavailable).
Status RunBandFollower(MPI_Comm group, const EngineExecutorOptions& options, const std::function<bool()>& should_stop);

}  // namespace stylesweep
