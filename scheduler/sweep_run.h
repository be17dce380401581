// One sweep from a sweep file to the store: the call `stylesweep sweep` makes
// after parsing its flags. It owns everything between the flags and the
// printed summary:
//
//   started without mpiexec: one process loads the sweep, coordinates and runs
//     every job itself (SweepWorkerSide::RunAlone: LocalTransport, EngineExecutor);
//   under mpiexec: MPI_Init_thread (MPI_THREAD_FUNNELED required), then the
//     start-up collectives (RunUnderMpi in sweep_run.cc lists them), then rank 0
//     coordinates (MpiTransport) while the other ranks run jobs
//     (RunMpiWorker), or with devices_per_job > 1 form groups that each run
//     one job as a band split (worker_groups.h, band_executor.h);
//   on the coordinator: expansion, --share filtering, --batch-jobs auto, the
//     memory check (memory_check.h), the coordinator (coordinator.h), the
//     best runs and the HTML report.
//
// This file is torch-free: the ranks that run jobs are a SweepWorkerSide,
// which the engine executable provides (sweep_workers.h). The front
// executable, which links no LibTorch, runs rank 0 of a launch of several
// ranks with none (docs/ARCHITECTURE.md, "Two executables, one command").
//
// Every MPI call's return code is checked (MPI_COMM_WORLD uses
// MPI_ERRORS_RETURN); a failure is an error naming the call.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"
#include "scheduler/coordinator.h"
#include "scheduler/sweep_share.h"
#include "scheduler/worker_timeout.h"
#include "store/run_types.h"

namespace stylesweep {

struct SweepOutcome;
struct WorkerGroups;

// What `stylesweep sweep` asks for (its flags, already checked).
struct SweepRequest {
  std::string file;                    // the sweep file
  std::vector<std::string> overrides;  // "key=v1,v2" settings applied after the file
  std::string store_dir = "runs";      // the store folder
  std::string shared_dir;              // models/ and images/; empty: ResolveSharedDir's default
  int retries = 1;                     // extra attempts for a failed job within this sweep; default 1
  bool retry_failed = false;           // also run jobs recorded FAILED by an earlier sweep
  bool restart = false;                // record into a new experiment NAME-2, NAME-3, ...
  int threads = 0;                     // CPU threads per worker; 0: LibTorch's default
  std::string progress = "auto";       // auto, live, plain or none
  double progress_interval_seconds = 5.0;  // s between plain progress lines; default 5
  SweepShare share;                    // the share of the jobs to run; default the whole sweep
  int batch_jobs = 1;                  // jobs per batch; 0: auto (the largest that fits, 1 on the CPU)
  std::ostream* log = nullptr;         // notes before the run (share, batch size) and progress; null: none
  std::string snapshot_dir;            // --snapshot: a complete copy of the store kept there; empty: none
  double snapshot_every_seconds = 300;  // s between snapshots; default 5 minutes
  double worker_timeout_seconds = kDefaultWorkerTimeoutSeconds;  // a busy worker silent this long is lost
  std::string exit_file;               // rank 0 writes its exit code there once the store is closed; empty: none
  bool rehash = false;                 // --rehash: read every image and weights file again, not the hash cache
  // Under mpiexec, rank 0 calls this with its outcome once the store is
  // closed and before the workers are shut down (the MPI job may then be
  // ended with MPI_Abort): it prints the outcome and returns the exit code,
  // which also goes to `exit_file` and to MPI_Abort. Empty: code 0 or 1.
  std::function<int(const SweepOutcome&)> finish;
};

// What one process did. On the coordinator (`coordinator` true) the summary,
// the best runs and the report are for printing; on a worker rank only
// `status` says anything.
struct SweepOutcome {
  Status status;                // Ok, or why this process's part failed
  bool coordinator = true;      // false on worker ranks
  bool quiet = false;           // true: rank 0 reports this same error; say nothing here
  SweepSpec spec;               // the sweep as loaded (coordinator)
  SweepSummary summary;         // valid when `status` is Ok on the coordinator
  std::vector<RunRecord> best;  // the best finished runs by spec.metric, best first
  std::string best_error;       // why `best` could not be read; empty otherwise
  // The finished runs on the front of eval/style_distance and
  // eval/content_distance (store/pareto.h), in front order; empty when the
  // runs carry no scores or those of several judges. `front_of`: the
  // finished runs it was taken from.
  std::vector<RunRecord> front;
  std::size_t front_of = 0;
  // The finished runs whose front was not computed: past max_front_runs
  // (ReadBestRuns) when they carry the judge's scores; 0 otherwise.
  std::size_t front_left_out = 0;
  std::string report_path;      // the HTML report written; empty when none
  std::string report_error;     // why no report was written (not for an interrupted sweep)
  bool finished = false;        // true: request.finish already printed it (rank 0 under mpiexec)
  int exit_code = 0;            // what request.finish returned, when `finished`
};

// The ranks that run jobs, as the engine executable provides them
// (EngineSweepWorkers, sweep_workers.h). RunSweepRequest calls each on the
// ranks that play that part; it makes every MPI collective of the start-up
// itself, so the part here begins after them.
class SweepWorkerSide {
 public:
  virtual ~SweepWorkerSide() = default;

  // The total memory of the smallest CUDA device this process sees, in
  // bytes; 0 when it sees none. Asked on every rank that runs jobs, before
  // any job (the coordinator checks and sizes batches with it).
  virtual std::int64_t SmallestGpuBytes() = 0;

  // Started alone (no launcher, or one rank): coordinates `spec` and runs
  // every job in this process (CoordinateSweep over a LocalTransport).
  virtual SweepOutcome RunAlone(const SweepRequest& request, const SweepSpec& spec,
                                std::int64_t smallest_gpu_bytes) = 0;

  // Worker rank `rank` of MPI_COMM_WORLD (devices_per_job 1): runs jobs
  // until the coordinator stops it (RunMpiWorker).
  virtual Status RunWorker(const SweepRequest& request, int rank) = 0;

  // Rank `rank` of a group (devices_per_job > 1, never rank 0): the leader
  // runs the group's jobs as band splits, the others follow it.
  virtual Status RunGroupMember(const SweepRequest& request, const WorkerGroups& groups, int rank) = 0;
};

// Runs the sweep `request` names. Collective under mpiexec: every rank calls
// it once, and it initialises and finalises MPI itself. `workers` runs the
// jobs; null in a process that only coordinates (the front executable, on
// rank 0 of several ranks), where any other part is an error (kInternal; on a
// rank other than 0 the MPI job is aborted, since the coordinator would wait
// for it). Never throws; errors come back in the outcome (kInvalidArgument
// for a bad sweep file or a devices_per_job that the ranks do not match,
// kUnavailable for a failed MPI call, the store's codes for the store).
SweepOutcome RunSweepRequest(const SweepRequest& request, SweepWorkerSide* workers);

// The coordinator's part on `transport` for a loaded `spec`: expands the
// jobs, keeps request.share, sizes batches (request.batch_jobs 0: auto),
// checks that the jobs fit (band split and device memory), opens the store,
// runs the coordinator, then reads the best runs and (unless interrupted)
// writes the report beside the store. `devices_per_worker`: the ranks each
// worker of `transport` runs a job on; it must equal spec.devices_per_job.
// `smallest_gpu_bytes`: the smallest GPU memory among the ranks that run
// jobs (SweepWorkerSide::SmallestGpuBytes), 0 when they see none: the CUDA
// jobs are checked, and --batch-jobs auto sized, against it.
// `should_stop` is polled as in CoordinatorOptions.
SweepOutcome CoordinateSweep(const SweepRequest& request, const SweepSpec& spec, Transport& transport,
                             int devices_per_worker, std::int64_t smallest_gpu_bytes,
                             const std::function<bool()>& should_stop);

// The memory RunSweepRequest checks CUDA jobs against, from what every rank
// reported (`per_rank[r]`: rank r's SmallestGpuBytes, 0 without a GPU): the
// smallest positive value among the ranks that run jobs, that is rank 0
// alone, else ranks 1.. (rank 0 only coordinates). 0 when none sees a GPU.
std::int64_t SmallestGpuOfWorkers(const std::vector<std::int64_t>& per_rank);

// Writes `code` and a newline to `path` (--exit-file), for a batch script
// that must act on the sweep's status even while the launcher still waits
// for a lost node; nothing when `path` is empty. A failure is a warning on `log`.
void WriteSweepExitFile(const std::string& path, int code, std::ostream& log);

// The most finished runs whose Pareto front a sweep's summary shows: the
// front needs every finished run read whole (params and metrics), which a
// dataset sweep of a million runs cannot afford.
inline constexpr std::int64_t kMaxFrontRuns = 20000;

// Reads what the summary of a finished or stopped sweep shows into
// `outcome`: the best finished runs by spec.metric (best, or best_error),
// and the front of the judge's eval/style_distance and eval/content_distance
// (front, front_of) while the experiment has at most `max_front_runs`
// finished runs. Past that, no run is read whole: front_left_out is the
// number of finished runs when they carry the judge's scores (the summary
// then points to `stylesweep runs --pareto`, FrontLeftOutNote). Reads only;
// read errors leave the parts empty.
void ReadBestRuns(const SweepSpec& spec, const std::string& experiment, RunStore& store, SweepOutcome& outcome,
                  std::int64_t max_front_runs = kMaxFrontRuns);

// The summary's line for a front left out over `finished` runs of
// `experiment`: the command that computes it.
std::string FrontLeftOutNote(const std::string& experiment, std::size_t finished);

// The experiment to record into: `name`, or with `restart` the first unused
// "<name>-<n>" (n >= 2), so every job runs again as a new run while earlier
// results stay as they were.
Result<std::string> ExperimentNameFor(RunStore& store, const std::string& name, bool restart);

}  // namespace stylesweep
