// RunStore: the experiment store. A store is a folder:
//
//   <dir>/store.db      SQLite database (WAL, synchronous=NORMAL)
//   <dir>/artifacts/    images, written atomically, recorded with their sha256
//
// Concurrency model: exactly one process writes (the sweep's coordinator);
// every other process opens the store read-only and never blocks the writer
// (WAL). Every write call below is one `BEGIN IMMEDIATE` transaction: it
// either commits whole or changes nothing, also across SIGKILL and power loss
// of the writer (a committed transaction survives a process crash; with
// synchronous=NORMAL the last transactions before an OS crash may roll back,
// never half-apply). If another process holds the write lock past
// `busy_timeout_ms`, a call returns kBusy.
//
// Threading: a RunStore is one SQLite connection; use it from one thread at a
// time. Open one RunStore per thread or process.
//
// Keep the folder on a local disk: WAL needs shared memory and POSIX locks
// that network filesystems (NFS, SMB, many cluster filesystems) do not give.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/run_state_index.h"
#include "store/run_types.h"

namespace stylesweep {

enum class OpenMode {
  kReadWrite,  // creates the folder and database if missing, migrates older schemas
  kReadOnly,   // a missing store or an older schema is an error; never writes
};

// Writes `bytes` to `path` atomically: a temporary file in the same folder,
// fsync, rename, fsync of the folder. On failure nothing is left at `path` or
// at the temporary name. The default is WriteFileAtomically (common/file_io.h);
// tests inject failing writers.
using ArtifactWriter = std::function<Status(const std::string& path, std::string_view bytes)>;

struct StoreOptions {
  OpenMode mode = OpenMode::kReadWrite;  // see OpenMode
  int busy_timeout_ms = 5000;            // ms to wait for another writer's lock before kBusy
  int64_t max_page_count = 0;            // SQLite pages the database may grow to; 0: unlimited (tests simulate a full disk)
  ArtifactWriter artifact_writer;        // empty: WriteFileAtomically
};

class RunStore {
 public:
  // The schema version this binary writes and understands.
  static constexpr int kSchemaVersion = 1;
  static constexpr const char* kDatabaseFile = "store.db";
  static constexpr const char* kArtifactsDir = "artifacts";

  // Opens the store in folder `dir`.
  // Errors: kNotFound (read-only and no store there), kCorrupt (the file is
  // not a SQLite database, or names a schema newer than kSchemaVersion:
  // "upgrade stylesweep"), kBusy (locked past the timeout while creating or
  // migrating), kIoError (cannot create the folder).
  static Result<std::unique_ptr<RunStore>> Open(const std::string& dir, const StoreOptions& options = {});

  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  const std::string& dir() const { return dir_; }
  // Absolute or relative path of an artifact: dir() + "/" + artifact.path.
  std::string ArtifactPath(const Artifact& artifact) const;

  // ---- Writes (OpenMode::kReadWrite; kInvalidArgument on a read-only store) ----

  // Returns the experiment's id, creating it if `name` is new. An existing
  // experiment keeps its sweep text and hash; a different `sweep_hash` is not
  // an error (a sweep may grow) but the stored text stays the first one.
  Result<int64_t> CreateOrGetExperiment(const std::string& name, const std::string& sweep_text,
                                        const std::string& sweep_hash, const std::string& code_version);

  // Returns the run for (experiment, config_hash), creating it QUEUED with
  // `params` if new. Idempotent; params are immutable: an existing run whose
  // params differ from `params` is kInvalidArgument naming the first
  // differing key.
  Result<int64_t> EnsureRun(int64_t experiment_id, const std::string& config_hash, const Params& params);

  // A sweep's start at scale: creates QUEUED runs for `config_hashes` (none
  // of which the experiment may have yet; see ListRunStates), run i with
  // params_of(i), and returns their ids in order. Unlike the other writes it
  // commits every `runs_per_transaction` runs (one transaction each), so a
  // million runs do not wait on a million commits; on an error the runs of
  // the transactions already committed stay QUEUED (a re-run finds them) and
  // the failing transaction changes nothing. kInvalidArgument for an empty
  // hash or a hash the experiment has (UNIQUE), kNotFound for no experiment.
  Result<std::vector<int64_t>> CreateRuns(int64_t experiment_id, const std::vector<std::string>& config_hashes,
                                          const std::function<Params(std::size_t)>& params_of,
                                          std::size_t runs_per_transaction = 2000);

  // QUEUED/FAILED/KILLED -> RUNNING; attempts + 1; records host, rank, device
  // and the start time; clears end time and error. kInvalidArgument if the run
  // is RUNNING or FINISHED; kNotFound if it does not exist.
  Status StartRun(int64_t run_id, const std::string& host, int rank, const std::string& device);

  // Appends metric points (one transaction for the whole batch) and updates
  // the latest-value table. A point for an existing (key, step) replaces it.
  Status LogMetrics(int64_t run_id, const std::vector<MetricPoint>& points);

  // Records phase timings; a phase recorded again replaces the old value.
  Status LogTimings(int64_t run_id, const std::vector<PhaseTiming>& timings);

  // Writes the image under artifacts/<run_id>/ and records it (kind, step,
  // sha256, size). The file is written before the row; if recording fails the
  // file is removed. An artifact of the same (kind, step) replaces the old one.
  Result<Artifact> AddArtifact(int64_t run_id, const ArtifactInput& input);

  // RUNNING -> FINISHED | FAILED | KILLED with the end time and message.
  Status FinishRun(int64_t run_id, RunStatus status, const std::string& error_message = "");

  // The coordinator's call: metrics history, timings, artifacts and the final
  // status of one attempt in ONE transaction (artifact files are written
  // first; they are removed again if the transaction fails). Either all of it
  // is recorded or none of it, and the run stays as it was.
  Status RecordRunResult(int64_t run_id, const RunResult& result);

  // After a crash: every RUNNING run of the experiment becomes `to` (QUEUED to
  // run again, or KILLED with error "interrupted"). Returns how many changed.
  // `to` must be kQueued or kKilled.
  Result<int64_t> RequeueUnfinished(int64_t experiment_id, RunStatus to = RunStatus::kQueued);

  // ---- Reads (both modes) ----

  Result<std::vector<Experiment>> ListExperiments();
  Result<Experiment> GetExperiment(const std::string& name);

  // The run with everything recorded about it (params, latest metrics,
  // timings, artifacts). kNotFound if absent.
  Result<RunRecord> GetRun(int64_t run_id);

  // Resolves what a user typed to a run id: a number ("42") or a config-hash
  // prefix of at least 4 characters ("9f86d0"). kNotFound or kInvalidArgument
  // (ambiguous prefix, listing candidates).
  Result<int64_t> ResolveRunId(const std::string& text);

  // Runs matching `query` with params and latest metrics filled. The filter is
  // parsed and checked against the store's keys and compiled to parameterised
  // SQL (kInvalidArgument with the position, and the closest key for an
  // unknown one); kNotFound for an unknown experiment.
  Result<std::vector<RunRecord>> ListRuns(const RunQuery& query);

  // Every run of the experiment as (id, status) by config hash: one scan of
  // the runs table in row order, no params or metrics, so a sweep of a
  // million jobs finds each job's run in constant time (RunStateIndex). An
  // unknown id gives an empty index; kCorrupt for a run with an unknown status.
  Result<RunStateIndex> ListRunStates(int64_t experiment_id);

  // Full metric history of a run, ordered by key then step; empty `key`: all keys.
  Result<std::vector<MetricPoint>> GetMetricHistory(int64_t run_id, const std::string& key = "");

  // The keys a filter may name: params and metrics present in the store
  // (optionally within one experiment).
  Result<std::vector<std::string>> ParamKeys(const std::string& experiment = "");
  Result<std::vector<std::string>> MetricKeys(const std::string& experiment = "");

 private:
  class Impl;
  RunStore(std::string dir, std::unique_ptr<Impl> impl);

  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stylesweep
