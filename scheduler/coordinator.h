// The sweep coordinator: the one process that owns the RunStore. It turns a
// sweep's jobs into runs, hands them to workers through a Transport, records
// every result, writes the dataset output, reports progress, and stops
// cleanly on a signal. The same code drives MPI workers and the in-process
// local worker.
//
// Order of work: RequeueUnfinished (no run stays RUNNING after a crashed
// sweep); the experiment's runs found by job key (RunStore::ListRunStates,
// one hash lookup per job, so a resumed sweep of a million jobs starts in
// seconds) and the missing ones created QUEUED in bulk
// (CreateRuns; params: the swept values plus every setting, typed; an
// existing run keeps the params it was created with); skip FINISHED runs (and
// FAILED ones unless retry_failed), then
// hand out the rest longest first by estimated cost; among jobs of the
// longest remaining cost a worker gets one whose style it ran last, so its
// style-target cache hits. With batch_jobs K > 1 a worker gets up to K jobs
// at once: the next job as above plus the longest remaining jobs with the
// same BatchCompatibilityKey (engine/batch_compatibility.h); each job is
// still its own run (started, recorded FINISHED / FAILED / KILLED and
// retried alone).
//
// Failure: a job's failure is recorded FAILED with its message and retried
// up to `retries` more times; the sweep goes on. A store write that fails is
// reported and ends the sweep (the store stays consistent: every result is
// one transaction). When `should_stop` turns true the workers are stopped,
// reports arriving within `stop_grace_seconds` are recorded, and runs still
// in flight are recorded KILLED.
//
// Snapshots: the store is marked live (a store restored from a snapshot
// drops its snapshot_info); with options.snapshots the first snapshot starts
// once every run exists, the schedule is polled between events, and a last
// snapshot is taken when the sweep returns, also on an error.
// Lost workers: a worker that holds jobs and sends nothing (no heartbeat, no
// report) for longer than `worker_timeout_seconds` is lost (worker_liveness.h):
// its jobs are recorded KILLED with a message naming its host and the
// silence, go back to the queue for the other workers, and everything it
// sends later is ignored (a late result is dropped even when its job has not
// run again yet: the job simply runs again). The summary counts lost workers;
// when every worker is lost the sweep ends with the rest not started.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/job_table.h"
#include "experiments/sweep.h"
#include "scheduler/snapshot_schedule.h"
#include "scheduler/run_params.h"
#include "scheduler/transport.h"
#include "scheduler/worker_liveness.h"
#include "store/run_store.h"

namespace stylesweep {

struct CoordinatorOptions {
  int retries = 0;                    // extra attempts for a failed job within this sweep; default 0
  bool retry_failed = false;          // also run jobs recorded FAILED by an earlier sweep; default false
  std::string code_version;           // recorded with a new experiment
  std::function<bool()> should_stop;  // polled between events; true: stop (signal). Empty: never
  double stop_grace_seconds = 2.0;    // s to wait for in-flight reports after a stop; default 2
  std::ostream* progress = nullptr;   // progress lines go here; null: none
  bool live_progress = false;         // true: one line redrawn in place (a terminal); false: a line per interval
  double progress_interval_seconds = 5.0;  // s between plain progress lines; default 5
  int batch_jobs = 1;                 // jobs a worker runs at once, as one batch; default 1 (one at a time)
  SnapshotSchedule* snapshots = nullptr;  // store snapshots while the sweep runs (--snapshot); null: none
  double worker_timeout_seconds = kDefaultWorkerTimeoutSeconds;  // s a busy worker may be silent; <= 0: forever
};

struct SweepSummary {
  std::string experiment;     // the experiment's name in the store
  std::int64_t experiment_id = 0;
  int total = 0;              // jobs in the sweep
  int skipped = 0;            // already FINISHED (or FAILED, without retry_failed) before this sweep
  int finished = 0;           // finished in this sweep
  int failed = 0;             // jobs whose last attempt in this sweep failed
  int killed = 0;             // in flight when the sweep was stopped
  int not_started = 0;        // still queued when the sweep was stopped
  int workers_lost = 0;       // workers silent past worker_timeout_seconds (their jobs were requeued)
  int output_errors = 0;      // finished jobs whose dataset image or manifest line could not be written
  int dataset_kept = 0;       // finished jobs whose image went into the dataset folder
  int dataset_dropped = 0;    // finished jobs that failed output.keep (their runs stay in the store)
  int attempts = 0;           // attempts started in this sweep
  bool interrupted = false;   // should_stop turned true
  double seconds = 0;         // wall time of the sweep
};

// Runs the sweep `spec` (already expanded into `jobs`) on `transport`'s
// workers, recording into `store` under experiment `experiment_name`.
// `sweep_text` is the sweep file's text (stored with a new experiment).
// Returns the summary; an error only when the store cannot be written or a
// transport fails (the summary of what was done is then lost but the store
// is consistent and a re-run resumes).
// `jobs` is held by reference for the call; each job's JobSpec is built
// when it is handed out (experiments/job_table.h), so a million-job sweep
// costs rank 0 about 100 bytes per job beyond the store's lookups.
Result<SweepSummary> RunSweep(const SweepSpec& spec, const std::string& experiment_name,
                              const std::string& sweep_text, const JobTable& jobs,
                              RunStore& store, Transport& transport, const CoordinatorOptions& options);

// The same for a hand-made job list (JobTable::FromJobs).
Result<SweepSummary> RunSweep(const SweepSpec& spec, const std::string& experiment_name,
                              const std::string& sweep_text, const std::vector<JobSpec>& jobs,
                              RunStore& store, Transport& transport, const CoordinatorOptions& options);

}  // namespace stylesweep
