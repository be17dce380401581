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

// The scores as a JSON object; the judge's id is an integer.
nlohmann::json ScoresJson(const std::map<std::string, double>& scores) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : scores) {
    if (key == "eval/judge_id") out[key] = static_cast<std::int64_t>(value);
    else out[key] = value;
  }
  return out;
}

// Where the dataset's images and manifest go, and what is in the manifest.
// With output.format webdataset the images go into tar shards
// (store/tar_shards.h) instead of files, keyed by job key.
class DatasetWriter {
 public:
  DatasetWriter(const OutputSpec& output, const std::string& sweep_name) : dir_(output.dataset_dir) {
    include_content_ = output.include_content;
    if (enabled() && output.format == "webdataset") {
      shards_ = std::make_unique<TarShardWriter>(TarShardOptions{dir_, sweep_name, output.shard_size});
    }
  }

  bool enabled() const { return !dir_.empty(); }

  // Reads an existing manifest so that a re-run replaces its jobs' lines.
  Status Load() {
    if (!enabled()) return Status::Ok();
    std::error_code error;
    fs::create_directories(dir_, error);
    if (error) return Status::IoError("cannot create dataset folder " + dir_ + ": " + error.message());
    if (shards_) SS_RETURN_IF_ERROR(shards_->Open());
    std::ifstream in(ManifestPath());
    std::string line;
    while (std::getline(in, line)) {
      const nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_discarded() || !entry.contains("job_key") || !entry["job_key"].is_string()) continue;
      const std::string key = entry["job_key"].get<std::string>();
      if (lines_.emplace(key, line).second) order_.push_back(key);
    }
    return Status::Ok();
  }

  // Writes the job's final image and its manifest line; `scores` (the
  // judge's eval/ metrics, may be empty) go into the line's "scores".
  Status Write(const JobSpec& job, std::int64_t run_id, const EncodedImage& image,
               const std::map<std::string, double>& scores) {
    const std::string file = (shards_ ? job.job_key : job.output_name) + ".png";
    if (!shards_) {
      std::error_code error;  // output.name may nest: "{style}/{content}"
      fs::create_directories((fs::path(dir_) / file).parent_path(), error);
      if (error) return Status::IoError("cannot create the folder for " + file + " in " + dir_ + ": " + error.message());
      SS_RETURN_IF_ERROR(WriteFileAtomically((fs::path(dir_) / file).string(),
                                             std::vector<std::uint8_t>(image.png.begin(), image.png.end())));
    }
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [key, value] : job.params) params[key] = ParamJson(TypedParam(key, value));
    std::vector<std::string> styles;
    for (const std::string& path : job.style_paths) styles.push_back(path);
    const std::string line = nlohmann::json{{"file", file},         {"job_key", job.job_key}, {"run_id", run_id},
                                            {"content", job.content_path}, {"style", styles},
                                            {"params", params},     {"repeat", job.repeat},
                                            {"scores", ScoresJson(scores)}}
                                 .dump();
    if (shards_) SS_RETURN_IF_ERROR(AddSample(job, image, line));
    auto [it, inserted] = lines_.emplace(job.job_key, line);
    if (inserted) {
      order_.push_back(job.job_key);
      std::ofstream out(ManifestPath(), std::ios::app);
      out << line << '\n';
      out.flush();
      if (!out) return Status::IoError("cannot append to " + ManifestPath());
      return Status::Ok();
    }
    it->second = line;
    std::string text;
    for (const std::string& key : order_) text += lines_[key] + '\n';
    return WriteFileAtomically(ManifestPath(), std::vector<std::uint8_t>(text.begin(), text.end()));
  }

  // Webdataset: packs the samples still waiting into a last shard. Call
  // when the sweep ended normally (an interrupted one leaves them staged).
  Status Finish() { return shards_ ? shards_->Finish() : Status::Ok(); }

 private:
  std::string ManifestPath() const { return (fs::path(dir_) / "manifest.jsonl").string(); }

  // One webdataset sample: KEY.png, KEY.json (the manifest line) and, with
  // include_content, the content image's own bytes as KEY.content.png/.jpg.
  Status AddSample(const JobSpec& job, const EncodedImage& image, const std::string& line) {
    std::vector<SampleFile> files = {{"png", std::string(image.png.begin(), image.png.end())}, {"json", line}};
    if (include_content_) {
      SS_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(job.content_path));
      std::string extension = fs::path(job.content_path).extension().string();
      std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
      files.push_back({extension == ".png" ? "content.png" : "content.jpg", std::move(content)});
    }
    return shards_->Add(job.job_key, files);
  }

  std::string dir_;
  bool include_content_ = false;
  std::unique_ptr<TarShardWriter> shards_;  // null: folder output
  std::map<std::string, std::string> lines_;  // job key -> manifest line
  std::vector<std::string> order_;            // job keys in file order
};

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

}  // namespace


Result<SweepSummary> RunSweep(const SweepSpec& spec, const std::string& experiment_name,
                              const std::string& sweep_text, const std::vector<JobSpec>& jobs,
                              RunStore& store, Transport& transport, const CoordinatorOptions& options) {
  const Clock::time_point sweep_start = Clock::now();
  SweepSummary summary;
  summary.experiment = experiment_name;
  summary.total = static_cast<int>(jobs.size());
  // A bad output.keep is a bad sweep file: refused before the store changes.
  if (!spec.output.keep.empty()) SS_RETURN_IF_ERROR(CheckKeepFilter(spec.output.keep, jobs));

  SS_RETURN_IF_ERROR(ClearSnapshotInfo(store.dir()));
  SS_ASSIGN_OR_RETURN(summary.experiment_id,
                      store.CreateOrGetExperiment(experiment_name, sweep_text, Sha256Hex(sweep_text),
                                                  options.code_version));
  SS_ASSIGN_OR_RETURN(std::int64_t requeued, store.RequeueUnfinished(summary.experiment_id, RunStatus::kQueued));

  std::vector<std::int64_t> run_ids(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    Result<std::int64_t> run_id = store.EnsureRun(summary.experiment_id, jobs[i].job_key, RunParamsForJob(jobs[i]));
    if (!run_id.ok()) return run_id.status().WithContext("job " + std::to_string(jobs[i].index) + " (" + JobName(jobs[i]) + ")");
    run_ids[i] = *run_id;
  }
  if (options.snapshots != nullptr) options.snapshots->Begin(experiment_name);
  RunQuery query;
  query.experiment = experiment_name;
  SS_ASSIGN_OR_RETURN(std::vector<RunRecord> records, store.ListRuns(query));
  std::map<std::int64_t, RunStatus> status_of;
  for (const RunRecord& record : records) status_of[record.id] = record.status;

  // Jobs a worker may run as one batch share a key; none when batching is off.
  std::vector<std::string> batch_keys(jobs.size());
  if (options.batch_jobs > 1) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].options.optimizer == "lbfgs") batch_keys[i] = BatchCompatibilityKey(jobs[i].options);
    }
  }
  JobQueue queue;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const RunStatus status = status_of[run_ids[i]];
    if (status == RunStatus::kFinished || (status == RunStatus::kFailed && !options.retry_failed)) {
      ++summary.skipped;
      continue;
    }
    queue.Push(static_cast<int>(i), jobs[i].cost, jobs[i].style_key, batch_keys[i]);
  }
  const int to_run = static_cast<int>(queue.size());

  DatasetWriter dataset(spec.output, spec.name);
  SS_RETURN_IF_ERROR(dataset.Load());

  ProgressReporter progress(options.progress, options.live_progress, options.progress_interval_seconds);
  if (options.progress != nullptr) {
    std::string line = "[sweep] " + experiment_name + ": " + std::to_string(summary.total) + (summary.total == 1 ? " job, " : " jobs, ") +
                       std::to_string(to_run) + " to run, " + std::to_string(summary.skipped) + " already done, " +
                       std::to_string(transport.num_workers()) + " worker" + (transport.num_workers() == 1 ? "" : "s");
    if (requeued > 0) line += "; " + std::to_string(requeued) + " left RUNNING by an earlier sweep requeued";
    progress.Message(line);
  }

  std::vector<WorkerState> workers(transport.num_workers());
  WorkerLiveness liveness(transport.num_workers(), options.worker_timeout_seconds);
  std::vector<int> attempts(jobs.size(), 0);
  int in_flight = 0;
  bool stopping = false;
  Clock::time_point stop_deadline;

  auto state_for_progress = [&] {
    ProgressState state;
    state.done = summary.finished + summary.failed;
    state.total = to_run;
    state.failed = summary.failed;
    for (std::size_t w = 0; w < workers.size(); ++w) {
      const WorkerState& worker = workers[w];
      if (liveness.lost(static_cast<int>(w))) state.workers.push_back("lost");
      else if (!worker.ready) state.workers.push_back("starting");
      else if (!worker.busy) state.workers.push_back("idle");
      else {
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), " %.0fs", SecondsSince(worker.started));
        const std::string more = worker.slots.size() > 1 ? " +" + std::to_string(worker.slots.size() - 1) : "";
        state.workers.push_back(JobName(jobs[worker.slots.front()]) + more + seconds);
      }
    }
    return state;
  };

  // Records `result` for the job a worker ran; on a store error the sweep ends.
  auto record = [&](int slot, RunResult result) -> Status {
    return store.RecordRunResult(run_ids[slot], result)
        .WithContext("recording run " + std::to_string(run_ids[slot]) + " (" + JobName(jobs[slot]) + ")");
  };

  // Gives up on silent worker `w`: its jobs are recorded KILLED and queued
  // again (unless the sweep is stopping), and it gets no more work.
  auto lose_worker = [&](int w) -> Status {
    WorkerState& worker = workers[w];
    char silence[64];
    std::snprintf(silence, sizeof(silence), "%.0f s, longer than --worker-timeout %.0f s", liveness.silence(w),
                  liveness.timeout_seconds());
    const std::string message = "lost worker " + std::to_string(w + 1) + " (rank " + std::to_string(worker.hello.rank) +
                                " on host " + worker.hello.host + "): silent for " + silence;
    for (const int slot : worker.slots) {
      SS_RETURN_IF_ERROR(store.FinishRun(run_ids[slot], RunStatus::kKilled, message)
                             .WithContext("recording run " + std::to_string(run_ids[slot]) + " (" + JobName(jobs[slot]) + ")"));
      --in_flight;
      if (stopping) ++summary.killed;
      else queue.Push(slot, jobs[slot].cost, jobs[slot].style_key, batch_keys[slot]);
    }
    progress.Message("[sweep] " + message + "; " + std::to_string(worker.slots.size()) + " job" +
                     (worker.slots.size() == 1 ? "" : "s") + (stopping ? " recorded KILLED" : " queued again"));
    worker.slots.clear();
    worker.busy = false;
    worker.ready = false;
    transport.MarkLost(w);
    ++summary.workers_lost;
    return Status::Ok();
  };

  auto finish = [&](Status status) -> Result<SweepSummary> {
    transport.StopWorkers();
    if (options.snapshots != nullptr) (void)options.snapshots->Finish();  // logs its own failure
    if (!status.ok()) return status;
    if (!summary.interrupted) {
      if (Status packed = dataset.Finish(); !packed.ok()) {
        ++summary.output_errors;
        progress.Message("[sweep] the last dataset shard could not be written: " + packed.ToString());
      }
    }
    summary.seconds = SecondsSince(sweep_start);
    return summary;
  };

  while (true) {
    if (!stopping && options.should_stop && options.should_stop()) {
      stopping = true;
      summary.interrupted = true;
      transport.StopWorkers();
      stop_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(options.stop_grace_seconds));
      progress.Message("[sweep] stopping: waiting for " + std::to_string(in_flight) + " running job" +
                       (in_flight == 1 ? "" : "s") + " to report");
    }
    if (!stopping) {
      for (std::size_t w = 0; w < workers.size() && !queue.empty(); ++w) {
        WorkerState& worker = workers[w];
        if (!worker.ready || worker.busy || liveness.lost(static_cast<int>(w))) continue;
        std::vector<int> batch = {*queue.Pop(worker.last_style)};
        const std::string& batch_key = batch_keys[batch.front()];
        while (static_cast<int>(batch.size()) < options.batch_jobs) {
          std::optional<int> next = queue.PopCompatible(batch_key);
          if (!next) break;
          batch.push_back(*next);
        }
        std::vector<JobAssignment> assignments;
        for (const int slot : batch) {
          const JobSpec& job = jobs[slot];
          const std::string device = RecordedDevice(job.options.device, worker.hello.gpu);
          Status started = store.StartRun(run_ids[slot], worker.hello.host, worker.hello.rank, device);
          if (!started.ok()) return finish(started.WithContext("starting run " + std::to_string(run_ids[slot])));
          assignments.push_back(JobAssignment{run_ids[slot], job});
        }
        Status assigned = batch.size() == 1 ? transport.Assign(static_cast<int>(w), assignments.front())
                                            : transport.AssignBatch(static_cast<int>(w), assignments);
        if (!assigned.ok()) {
          for (const int slot : batch) (void)store.FinishRun(run_ids[slot], RunStatus::kFailed, assigned.message());
          return finish(assigned);
        }
        for (const int slot : batch) ++attempts[slot];
        summary.attempts += static_cast<int>(batch.size());
        in_flight += static_cast<int>(batch.size());
        worker.busy = true;
        worker.slots = batch;
        worker.last_style = jobs[batch.front()].style_key;
        worker.started = Clock::now();
        liveness.SetBusy(static_cast<int>(w), true);
      }
    }
    const bool all_lost = liveness.num_lost() == static_cast<int>(workers.size()) && !workers.empty();
    if (in_flight == 0 && (queue.empty() || stopping || all_lost)) break;
    if (stopping && Clock::now() >= stop_deadline) break;

    Result<WorkerEvent> event = transport.Next(0.1);
    if (!event.ok()) return finish(event.status());
    if (event->kind != WorkerEvent::Kind::kNone && event->worker >= 0) {
      if (liveness.lost(event->worker)) {
        if (event->kind == WorkerEvent::Kind::kReport) {
          progress.Message("[sweep] ignored a late report of run " + std::to_string(event->report.run_id) +
                           " from lost worker " + std::to_string(event->worker + 1));
        }
        continue;
      }
      liveness.Heard(event->worker);
    }
    if (event->kind == WorkerEvent::Kind::kReady) {
      WorkerState& worker = workers.at(event->worker);
      worker.ready = true;
      worker.hello = event->hello;
      if (worker.hello.rank > 0) progress.Message(WorkerReadyLine(event->worker, worker.hello));
    } else if (event->kind == WorkerEvent::Kind::kReport) {
      WorkerState& worker = workers.at(event->worker);
      auto running = std::find_if(worker.slots.begin(), worker.slots.end(),
                                  [&](int slot) { return run_ids[slot] == event->report.run_id; });
      if (running == worker.slots.end()) {
        return finish(Status::Internal("worker " + std::to_string(event->worker + 1) + " reported run " +
                                       std::to_string(event->report.run_id) + " it was not running"));
      }
      const int slot = *running;
      worker.slots.erase(running);
      worker.busy = !worker.slots.empty();
      liveness.SetBusy(event->worker, worker.busy);
      --in_flight;
      JobReport& report = event->report;
      if (report.status.ok()) {
        EncodedImage final_image = report.outcome.final_image;
        const std::map<std::string, double> scores = JudgeScoresOf(report.outcome);
        // A run the judge could not score says why (the worker's note).
        if (scores.empty() && !report.outcome.note.empty()) {
          progress.Message("[sweep] " + JobName(jobs[slot]) + ": " + report.outcome.note);
        }
        if (Status recorded = record(slot, ResultFromOutcome(std::move(report.outcome))); !recorded.ok()) return finish(recorded);
        ++summary.finished;
        if (dataset.enabled()) {
          Result<bool> keep = spec.output.keep.empty()
                                  ? Result<bool>(true)
                                  : RunPassesKeep(store, experiment_name, run_ids[slot], spec.output.keep);
          if (!keep.ok()) {
            ++summary.output_errors;
            progress.Message("[sweep] " + JobName(jobs[slot]) + ": dataset output failed: " + keep.status().ToString());
          } else if (!*keep) {
            ++summary.dataset_dropped;
          } else if (Status written = dataset.Write(jobs[slot], run_ids[slot], final_image, scores); !written.ok()) {
            ++summary.output_errors;
            progress.Message("[sweep] " + JobName(jobs[slot]) + ": dataset output failed: " + written.ToString());
          } else {
            ++summary.dataset_kept;
          }
        }
      } else if (report.status.code() == StatusCode::kCancelled) {
        RunResult result;
        result.status = RunStatus::kKilled;
        result.error_message = "stopped by a signal: " + report.status.message();
        if (Status recorded = record(slot, std::move(result)); !recorded.ok()) return finish(recorded);
        ++summary.killed;
      } else {
        RunResult result;
        result.status = RunStatus::kFailed;
        result.error_message = report.status.ToString();
        if (Status recorded = record(slot, std::move(result)); !recorded.ok()) return finish(recorded);
        const bool retry = attempts[slot] <= options.retries && !stopping;
        progress.Message("[sweep] " + JobName(jobs[slot]) + " failed (attempt " + std::to_string(attempts[slot]) +
                         (retry ? ", will retry" : "") + "): " + report.status.ToString());
        if (retry) queue.Push(slot, jobs[slot].cost, jobs[slot].style_key, batch_keys[slot]);
        else ++summary.failed;
      }
    }
    for (const int w : liveness.NewlyLost()) {
      if (Status lost = lose_worker(w); !lost.ok()) return finish(lost);
    }
    progress.Update(state_for_progress());
    if (options.snapshots != nullptr) options.snapshots->Poll();
  }

  // Runs still in flight after a stop: recorded KILLED so none stays RUNNING.
  for (WorkerState& worker : workers) {
    for (const int slot : worker.slots) {
      Status killed = store.FinishRun(run_ids[slot], RunStatus::kKilled, "interrupted: no report before the sweep stopped");
      if (!killed.ok()) return finish(killed);
      ++summary.killed;
    }
    worker.slots.clear();
    worker.busy = false;
  }
  summary.not_started = static_cast<int>(queue.size());
  progress.Finish(state_for_progress());
  return finish(Status::Ok());
}

}  // namespace stylesweep
