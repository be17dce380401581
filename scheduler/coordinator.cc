#include "scheduler/coordinator.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/text.h"
#include "engine/style_options.h"
#include "engine/batch_compatibility.h"
#include "scheduler/dataset_keep.h"
#include "scheduler/dataset_writer.h"
#include "scheduler/job_queue.h"
#include "scheduler/progress.h"
#include "store/json_output.h"
#include "store/tar_shards.h"

namespace stylesweep {

namespace {

namespace fs = std::filesystem;

// What the store records as a run's device: a plain "cuda" becomes the
// worker's GPU(s); a worker that is a group of ranks (devices_per_job,
// hello.gpu "cuda:1,cuda:2" or "cpu,cpu") runs a "cpu" job on every rank.
std::string RecordedDevice(const std::string& job_device, const std::string& worker_gpu) {
  const std::size_t ranks = 1 + static_cast<std::size_t>(std::count(worker_gpu.begin(), worker_gpu.end(), ','));
  if (job_device == "cuda" && worker_gpu.rfind("cuda", 0) == 0) return worker_gpu;
  std::string device = job_device;
  for (std::size_t r = 1; r < ranks; ++r) device += "," + job_device;
  return device;
}

// The line that says where an MPI worker runs and which GPU(s) a job with
// device "cuda" takes there (the local-rank rule, docs/CLUSTER.md).
std::string WorkerReadyLine(int worker, const WorkerHello& hello) {
  const bool gpu = hello.gpu.rfind("cuda", 0) == 0;
  return "[sweep] worker " + std::to_string(worker + 1) + ": rank " + std::to_string(hello.rank) + " on host " +
         hello.host + ", local rank " + std::to_string(hello.local_rank) +
         (gpu ? ", device cuda runs on " + hello.gpu : ", no GPU visible");
}

// The judge's scores among a finished job's metrics (their last points).
std::map<std::string, double> JudgeScoresOf(const JobOutcome& outcome) {
  std::map<std::string, double> scores;
  for (const MetricPoint& point : outcome.metrics) {
    if (point.key.rfind("eval/", 0) == 0) scores[point.key] = point.value;
  }
  return scores;
}

struct WorkerState {
  bool ready = false;
  bool busy = false;            // slots is not empty
  std::vector<int> slots;       // the jobs it runs (several: one batch)
  std::string last_style;       // style key of its last job
  WorkerHello hello;
  Clock::time_point started;
};

std::string JobName(const JobSpec& job) {
  if (!job.output_name.empty()) return job.output_name;
  std::string name = fs::path(job.content_path).stem().string();
  for (std::size_t i = 0; i < job.style_paths.size(); ++i) {
    name += (i == 0 ? "_" : "+") + fs::path(job.style_paths[i]).stem().string();
  }
  return name + "#" + std::to_string(job.index);
}

RunResult ResultFromOutcome(JobOutcome&& outcome) {
  RunResult result;
  result.status = RunStatus::kFinished;
  result.metrics = std::move(outcome.metrics);
  result.timings = std::move(outcome.timings);
  ArtifactInput final_image;
  final_image.kind = ArtifactKind::kFinal;
  final_image.step = outcome.final_image.step;
  final_image.bytes = std::move(outcome.final_image.png);
  final_image.width = outcome.final_image.width;
  final_image.height = outcome.final_image.height;
  result.artifacts.push_back(std::move(final_image));
  for (EncodedImage& snapshot : outcome.snapshots) {
    ArtifactInput input;
    input.kind = ArtifactKind::kSnapshot;
    input.step = snapshot.step;
    input.bytes = std::move(snapshot.png);
    input.width = snapshot.width;
    input.height = snapshot.height;
    result.artifacts.push_back(std::move(input));
  }
  return result;
}

// One sweep's coordination: the state RunSweep's steps share. Each step is a
// method; Run() is the loop. Not thread-safe (the coordinator's thread).
class SweepCoordinator {
 public:
  SweepCoordinator(const SweepSpec& spec, const std::string& experiment_name, const JobTable& jobs,
                   RunStore& store, Transport& transport, const CoordinatorOptions& options)
      : spec_(spec), experiment_(experiment_name), jobs_(jobs), store_(store), transport_(transport),
        options_(options), dataset_(spec.output, spec.name),
        progress_(options.progress, options.live_progress, options.progress_interval_seconds),
        workers_(transport.num_workers()), liveness_(transport.num_workers(), options.worker_timeout_seconds) {}

  Result<SweepSummary> Run(const std::string& sweep_text);

 private:
  Status Prepare(const std::string& sweep_text);
  Result<std::vector<RunStatus>> EnsureRuns();
  void FillQueue(const std::vector<RunStatus>& statuses);
  void AnnounceStart(std::int64_t requeued);
  void BeginStop();
  Status AssignIdleWorkers();
  Status AssignBatch(int w);
  Status HandleEvent(WorkerEvent& event);
  Status HandleReport(int w, JobReport& report);
  Status RecordFinished(int slot, JobReport& report);
  void WriteDataset(int slot, const EncodedImage& final_image, const std::map<std::string, double>& scores);
  Status RecordFailed(int slot, const Status& failure);
  Status Record(int slot, RunResult result);
  Status LoseWorker(int w);
  Status KillInFlight();
  void Requeue(int slot) { queue_.Push(slot, jobs_.cost(slot), jobs_.style_key(slot), batch_keys_[slot]); }
  ProgressState StateForProgress() const;
  Result<SweepSummary> Finish(Status status);

  const SweepSpec& spec_;
  const std::string experiment_;
  const JobTable& jobs_;  // each JobSpec is built when needed (JobTable::Job)
  RunStore& store_;
  Transport& transport_;
  const CoordinatorOptions& options_;
  DatasetWriter dataset_;
  ProgressReporter progress_;
  std::vector<WorkerState> workers_;
  WorkerLiveness liveness_;
  const Clock::time_point sweep_start_ = Clock::now();
  SweepSummary summary_;
  std::vector<std::int64_t> run_ids_;    // per job
  std::vector<std::string> batch_keys_;  // per job; empty: never batched
  std::vector<int> attempts_;            // per job, in this sweep
  JobQueue queue_;
  int to_run_ = 0;
  int in_flight_ = 0;
  bool stopping_ = false;
  Clock::time_point stop_deadline_;
};

Result<SweepSummary> SweepCoordinator::Run(const std::string& sweep_text) {
  summary_.experiment = experiment_;
  summary_.total = static_cast<int>(jobs_.size());
  // A bad output.keep is a bad sweep file: refused before the store changes.
  if (!spec_.output.keep.empty()) SS_RETURN_IF_ERROR(CheckKeepFilter(spec_.output.keep, jobs_.OnePerSettingAndStyle()));
  SS_RETURN_IF_ERROR(Prepare(sweep_text));
  while (true) {
    if (!stopping_ && options_.should_stop && options_.should_stop()) BeginStop();
    if (!stopping_) {
      if (Status assigned = AssignIdleWorkers(); !assigned.ok()) return Finish(assigned);
    }
    const bool all_lost = liveness_.num_lost() == static_cast<int>(workers_.size()) && !workers_.empty();
    if (in_flight_ == 0 && (queue_.empty() || stopping_ || all_lost)) break;
    if (stopping_ && Clock::now() >= stop_deadline_) break;
    Result<WorkerEvent> event = transport_.Next(0.1);
    if (!event.ok()) return Finish(event.status());
    if (Status handled = HandleEvent(*event); !handled.ok()) return Finish(handled);
    for (const int w : liveness_.NewlyLost()) {
      if (Status lost = LoseWorker(w); !lost.ok()) return Finish(lost);
    }
    progress_.Update(StateForProgress());
    if (options_.snapshots != nullptr) options_.snapshots->Poll();
  }
  if (Status killed = KillInFlight(); !killed.ok()) return Finish(killed);
  summary_.not_started = static_cast<int>(queue_.size());
  progress_.Finish(StateForProgress());
  return Finish(Status::Ok());
}

// The experiment, its runs (created in bulk where new), the queue of jobs
// still to run and the dataset folder, then the opening line.
Status SweepCoordinator::Prepare(const std::string& sweep_text) {
  SS_RETURN_IF_ERROR(ClearSnapshotInfo(store_.dir()));
  SS_ASSIGN_OR_RETURN(summary_.experiment_id, store_.CreateOrGetExperiment(experiment_, sweep_text, Sha256Hex(sweep_text),
                                                                           options_.code_version));
  SS_ASSIGN_OR_RETURN(std::int64_t requeued, store_.RequeueUnfinished(summary_.experiment_id, RunStatus::kQueued));
  SS_ASSIGN_OR_RETURN(std::vector<RunStatus> statuses, EnsureRuns());
  if (options_.snapshots != nullptr) options_.snapshots->Begin(experiment_);
  FillQueue(statuses);
  SS_RETURN_IF_ERROR(dataset_.Load());
  attempts_.assign(jobs_.size(), 0);
  AnnounceStart(requeued);
  return Status::Ok();
}

// Every job's run id and status: runs the experiment has are found by their
// config hash (ListRunStates, one hash lookup per job); the others are
// created QUEUED with their params, many per transaction (CreateRuns).
Result<std::vector<RunStatus>> SweepCoordinator::EnsureRuns() {
  SS_ASSIGN_OR_RETURN(RunStateIndex existing, store_.ListRunStates(summary_.experiment_id));
  run_ids_.assign(jobs_.size(), 0);
  std::vector<RunStatus> statuses(jobs_.size(), RunStatus::kQueued);
  std::vector<std::size_t> missing;
  std::vector<std::string> missing_keys;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    if (const RunState* state = existing.Find(jobs_.job_key(i))) {
      run_ids_[i] = state->id;
      statuses[i] = state->status;
    } else {
      missing.push_back(i);
      missing_keys.emplace_back(jobs_.job_key(i));
    }
  }
  existing = {};
  SS_ASSIGN_OR_RETURN(std::vector<std::int64_t> created,
                      store_.CreateRuns(summary_.experiment_id, missing_keys,
                                        [&](std::size_t m) { return RunParamsForJob(jobs_.Job(missing[m])); }));
  for (std::size_t m = 0; m < missing.size(); ++m) run_ids_[missing[m]] = created[m];
  return statuses;
}

// Queues the jobs not done yet; FINISHED (and FAILED, without retry_failed)
// ones count as skipped. Batch keys only when batching is on.
void SweepCoordinator::FillQueue(const std::vector<RunStatus>& statuses) {
  batch_keys_.assign(jobs_.size(), std::string());
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    const RunStatus status = statuses[i];
    if (status == RunStatus::kFinished || (status == RunStatus::kFailed && !options_.retry_failed)) {
      ++summary_.skipped;
      continue;
    }
    if (options_.batch_jobs > 1 && jobs_.options(i).optimizer == "lbfgs") {
      batch_keys_[i] = BatchCompatibilityKey(jobs_.options(i));
    }
    Requeue(static_cast<int>(i));
  }
  to_run_ = static_cast<int>(queue_.size());
}

void SweepCoordinator::AnnounceStart(std::int64_t requeued) {
  if (options_.progress == nullptr) return;
  const int workers = transport_.num_workers();
  std::string line = "[sweep] " + experiment_ + ": " + std::to_string(summary_.total) +
                     (summary_.total == 1 ? " job, " : " jobs, ") + std::to_string(to_run_) + " to run, " +
                     std::to_string(summary_.skipped) + " already done, " + std::to_string(workers) + " worker" +
                     (workers == 1 ? "" : "s");
  if (requeued > 0) line += "; " + std::to_string(requeued) + " left RUNNING by an earlier sweep requeued";
  progress_.Message(line);
}

void SweepCoordinator::BeginStop() {
  stopping_ = true;
  summary_.interrupted = true;
  transport_.StopWorkers();
  stop_deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(options_.stop_grace_seconds));
  progress_.Message("[sweep] stopping: waiting for " + std::to_string(in_flight_) + " running job" +
                    (in_flight_ == 1 ? "" : "s") + " to report");
}

Status SweepCoordinator::AssignIdleWorkers() {
  for (std::size_t w = 0; w < workers_.size() && !queue_.empty(); ++w) {
    const WorkerState& worker = workers_[w];
    if (!worker.ready || worker.busy || liveness_.lost(static_cast<int>(w))) continue;
    SS_RETURN_IF_ERROR(AssignBatch(static_cast<int>(w)));
  }
  return Status::Ok();
}

// Worker `w` gets the next job for it and, with batch_jobs > 1, the longest
// remaining jobs that may run with it; their runs start in the store first.
Status SweepCoordinator::AssignBatch(int w) {
  WorkerState& worker = workers_[w];
  std::vector<int> batch = {*queue_.Pop(worker.last_style)};
  const std::string& batch_key = batch_keys_[batch.front()];
  while (static_cast<int>(batch.size()) < options_.batch_jobs) {
    std::optional<int> next = queue_.PopCompatible(batch_key);
    if (!next) break;
    batch.push_back(*next);
  }
  std::vector<JobAssignment> assignments;
  for (const int slot : batch) {
    JobSpec job = jobs_.Job(slot);
    const std::string device = RecordedDevice(job.options.device, worker.hello.gpu);
    Status started = store_.StartRun(run_ids_[slot], worker.hello.host, worker.hello.rank, device);
    if (!started.ok()) return started.WithContext("starting run " + std::to_string(run_ids_[slot]));
    assignments.push_back(JobAssignment{run_ids_[slot], std::move(job)});
  }
  Status assigned = batch.size() == 1 ? transport_.Assign(w, assignments.front())
                                      : transport_.AssignBatch(w, assignments);
  if (!assigned.ok()) {
    for (const int slot : batch) (void)store_.FinishRun(run_ids_[slot], RunStatus::kFailed, assigned.message());
    return assigned;
  }
  for (const int slot : batch) ++attempts_[slot];
  summary_.attempts += static_cast<int>(batch.size());
  in_flight_ += static_cast<int>(batch.size());
  worker.busy = true;
  worker.slots = batch;
  worker.last_style = jobs_.style_key(batch.front());
  worker.started = Clock::now();
  liveness_.SetBusy(w, true);
  return Status::Ok();
}

// A worker's hello or report; anything from a lost worker is ignored.
Status SweepCoordinator::HandleEvent(WorkerEvent& event) {
  if (event.kind != WorkerEvent::Kind::kNone && event.worker >= 0) {
    if (liveness_.lost(event.worker)) {
      if (event.kind == WorkerEvent::Kind::kReport) {
        progress_.Message("[sweep] ignored a late report of run " + std::to_string(event.report.run_id) +
                          " from lost worker " + std::to_string(event.worker + 1));
      }
      return Status::Ok();
    }
    liveness_.Heard(event.worker);
  }
  if (event.kind == WorkerEvent::Kind::kReady) {
    WorkerState& worker = workers_.at(event.worker);
    worker.ready = true;
    worker.hello = event.hello;
    if (worker.hello.rank > 0) progress_.Message(WorkerReadyLine(event.worker, worker.hello));
  } else if (event.kind == WorkerEvent::Kind::kReport) {
    return HandleReport(event.worker, event.report);
  }
  return Status::Ok();
}

Status SweepCoordinator::HandleReport(int w, JobReport& report) {
  WorkerState& worker = workers_.at(w);
  auto running = std::find_if(worker.slots.begin(), worker.slots.end(),
                              [&](int slot) { return run_ids_[slot] == report.run_id; });
  if (running == worker.slots.end()) {
    return Status::Internal("worker " + std::to_string(w + 1) + " reported run " + std::to_string(report.run_id) +
                            " it was not running");
  }
  const int slot = *running;
  worker.slots.erase(running);
  worker.busy = !worker.slots.empty();
  liveness_.SetBusy(w, worker.busy);
  --in_flight_;
  if (report.status.ok()) return RecordFinished(slot, report);
  if (report.status.code() == StatusCode::kCancelled) {
    RunResult result;
    result.status = RunStatus::kKilled;
    result.error_message = "stopped by a signal: " + report.status.message();
    SS_RETURN_IF_ERROR(Record(slot, std::move(result)));
    ++summary_.killed;
    return Status::Ok();
  }
  return RecordFailed(slot, report.status);
}

Status SweepCoordinator::RecordFinished(int slot, JobReport& report) {
  const EncodedImage final_image = report.outcome.final_image;
  const std::map<std::string, double> scores = JudgeScoresOf(report.outcome);
  // A run the judge could not score says why (the worker's note).
  if (scores.empty() && !report.outcome.note.empty()) {
    progress_.Message("[sweep] " + JobName(jobs_.Job(slot)) + ": " + report.outcome.note);
  }
  SS_RETURN_IF_ERROR(Record(slot, ResultFromOutcome(std::move(report.outcome))));
  ++summary_.finished;
  if (dataset_.enabled()) WriteDataset(slot, final_image, scores);
  return Status::Ok();
}

// The dataset's image and manifest line, when the run passes output.keep; a
// failure is counted and reported, and the sweep goes on.
void SweepCoordinator::WriteDataset(int slot, const EncodedImage& final_image,
                                    const std::map<std::string, double>& scores) {
  Result<bool> keep = spec_.output.keep.empty() ? Result<bool>(true)
                                                : RunPassesKeep(store_, experiment_, run_ids_[slot], spec_.output.keep);
  Status written = keep.ok() ? Status::Ok() : keep.status();
  if (keep.ok() && !*keep) {
    ++summary_.dataset_dropped;
    return;
  }
  if (written.ok()) written = dataset_.Write(jobs_.Job(slot), run_ids_[slot], final_image, scores);
  if (written.ok()) {
    ++summary_.dataset_kept;
    return;
  }
  ++summary_.output_errors;
  progress_.Message("[sweep] " + JobName(jobs_.Job(slot)) + ": dataset output failed: " + written.ToString());
}

// A failed attempt: recorded FAILED, and queued again while attempts remain.
Status SweepCoordinator::RecordFailed(int slot, const Status& failure) {
  RunResult result;
  result.status = RunStatus::kFailed;
  result.error_message = failure.ToString();
  SS_RETURN_IF_ERROR(Record(slot, std::move(result)));
  const bool retry = attempts_[slot] <= options_.retries && !stopping_;
  progress_.Message("[sweep] " + JobName(jobs_.Job(slot)) + " failed (attempt " + std::to_string(attempts_[slot]) +
                    (retry ? ", will retry" : "") + "): " + failure.ToString());
  if (retry) Requeue(slot);
  else ++summary_.failed;
  return Status::Ok();
}

// Records `result` for the job a worker ran; on a store error the sweep ends.
Status SweepCoordinator::Record(int slot, RunResult result) {
  return store_.RecordRunResult(run_ids_[slot], result)
      .WithContext("recording run " + std::to_string(run_ids_[slot]) + " (" + JobName(jobs_.Job(slot)) + ")");
}

// Gives up on silent worker `w`: its jobs are recorded KILLED and queued
// again (unless the sweep is stopping), and it gets no more work.
Status SweepCoordinator::LoseWorker(int w) {
  WorkerState& worker = workers_[w];
  char silence[64];
  std::snprintf(silence, sizeof(silence), "%.0f s, longer than --worker-timeout %.0f s", liveness_.silence(w),
                liveness_.timeout_seconds());
  const std::string message = "lost worker " + std::to_string(w + 1) + " (rank " + std::to_string(worker.hello.rank) +
                              " on host " + worker.hello.host + "): silent for " + silence;
  for (const int slot : worker.slots) {
    SS_RETURN_IF_ERROR(store_.FinishRun(run_ids_[slot], RunStatus::kKilled, message)
                           .WithContext("recording run " + std::to_string(run_ids_[slot]) + " (" + JobName(jobs_.Job(slot)) + ")"));
    --in_flight_;
    if (stopping_) ++summary_.killed;
    else Requeue(slot);
  }
  progress_.Message("[sweep] " + message + "; " + std::to_string(worker.slots.size()) + " job" +
                    (worker.slots.size() == 1 ? "" : "s") + (stopping_ ? " recorded KILLED" : " queued again"));
  worker.slots.clear();
  worker.busy = false;
  worker.ready = false;
  transport_.MarkLost(w);
  ++summary_.workers_lost;
  return Status::Ok();
}

// Runs still in flight after a stop: recorded KILLED so none stays RUNNING.
Status SweepCoordinator::KillInFlight() {
  for (WorkerState& worker : workers_) {
    for (const int slot : worker.slots) {
      SS_RETURN_IF_ERROR(
          store_.FinishRun(run_ids_[slot], RunStatus::kKilled, "interrupted: no report before the sweep stopped"));
      ++summary_.killed;
    }
    worker.slots.clear();
    worker.busy = false;
  }
  return Status::Ok();
}

ProgressState SweepCoordinator::StateForProgress() const {
  ProgressState state;
  state.done = summary_.finished + summary_.failed;
  state.total = to_run_;
  state.failed = summary_.failed;
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    const WorkerState& worker = workers_[w];
    if (liveness_.lost(static_cast<int>(w))) state.workers.push_back("lost");
    else if (!worker.ready) state.workers.push_back("starting");
    else if (!worker.busy) state.workers.push_back("idle");
    else {
      char seconds[32];
      std::snprintf(seconds, sizeof(seconds), " %.0fs", SecondsSince(worker.started));
      const std::string more = worker.slots.size() > 1 ? " +" + std::to_string(worker.slots.size() - 1) : "";
      state.workers.push_back(JobName(jobs_.Job(worker.slots.front())) + more + seconds);
    }
  }
  return state;
}

// Stops the workers, takes the last snapshot and, after a normal end, packs
// the last dataset shard.
Result<SweepSummary> SweepCoordinator::Finish(Status status) {
  transport_.StopWorkers();
  if (options_.snapshots != nullptr) (void)options_.snapshots->Finish();  // logs its own failure
  if (!status.ok()) return status;
  if (!summary_.interrupted) {
    if (Status packed = dataset_.Finish(); !packed.ok()) {
      ++summary_.output_errors;
      progress_.Message("[sweep] the last dataset shard could not be written: " + packed.ToString());
    }
  }
  summary_.seconds = SecondsSince(sweep_start_);
  return summary_;
}

}  // namespace

Result<SweepSummary> RunSweep(const SweepSpec& spec, const std::string& experiment_name,
                              const std::string& sweep_text, const JobTable& jobs,
                              RunStore& store, Transport& transport, const CoordinatorOptions& options) {
  SweepCoordinator coordinator(spec, experiment_name, jobs, store, transport, options);
  return coordinator.Run(sweep_text);
}

Result<SweepSummary> RunSweep(const SweepSpec& spec, const std::string& experiment_name,
                              const std::string& sweep_text, const std::vector<JobSpec>& jobs,
                              RunStore& store, Transport& transport, const CoordinatorOptions& options) {
  return RunSweep(spec, experiment_name, sweep_text, JobTable::FromJobs(jobs), store, transport, options);
}

}  // namespace stylesweep
