// JobExecutor: what a worker does with one job. The coordinator and the
// transports see only this interface, so tests and benchmarks run the whole
// scheduler with fakes (NoopExecutor, FakeExecutor) and the engine stays
// behind EngineExecutor (engine_executor.h).
//
// Contract: Execute() never throws and never crashes the process for a bad
// job. An expected failure (unreadable image, NaN, out of memory) comes back
// as a non-OK Result whose message names the file or setting; a stop request
// (should_stop() returned true) comes back as kCancelled.
// Threading: one executor is used by one thread at a time.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"
#include "store/run_types.h"

namespace stylesweep {

// An encoded image produced by a job.
struct EncodedImage {
  std::string png;      // PNG file bytes
  int width = 0;        // px
  int height = 0;       // px
  int step = 0;         // the optimiser step the image shows
};

// Everything a successful job produced, ready for RunStore::RecordRunResult.
struct JobOutcome {
  // Per loss evaluation: total_loss, content_loss, style_loss, tv_loss and
  // style_loss/<layer>; wall_time is seconds since the Unix epoch.
  std::vector<MetricPoint> metrics;
  std::vector<PhaseTiming> timings;      // "load", "targets", "optimize", "encode"
  EncodedImage final_image;              // the stylised picture
  std::vector<EncodedImage> snapshots;   // every save_every steps; may be empty
  std::string device;                    // where it ran: "cpu", "cuda:1"
  std::string note;                      // engine remarks (layer defaults adapted...), may be empty
};

class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  // Runs `job`. `should_stop` is polled during the run (once per iteration
  // for the engine); when it returns true the run ends with kCancelled.
  virtual Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) = 0;

  // Runs `jobs` together where the executor can (EngineExecutor: one batch
  // per group of compatible jobs, see StyleTransfer::RunBatch) and returns
  // one result per job, in order, each with Execute's contract. The default
  // runs Execute on each job in turn.
  virtual std::vector<Result<JobOutcome>> ExecuteBatch(const std::vector<JobSpec>& jobs,
                                                       const std::function<bool()>& should_stop);
};

// Does no work: returns a one-pixel image and one metric point per loss key.
// Measures the scheduler's own overhead (bench/scheduler_bench.cc).
class NoopExecutor : public JobExecutor {
 public:
  Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) override;
};

// Which device a job runs on. `requested` is the job's device setting; a
// plain "cuda" becomes "cuda:<local_rank mod device_count>" so that the ranks
// of one node spread over its GPUs; "cpu" and explicit "cuda:N" are kept.
std::string ResolveJobDevice(const std::string& requested, int local_rank, int device_count);

// This process's rank among the ranks of its node: OMPI_COMM_WORLD_LOCAL_RANK,
// else SLURM_LOCALID, else 0.
int LocalRankFromEnvironment();

}  // namespace stylesweep
