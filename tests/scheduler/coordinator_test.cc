#include "scheduler/coordinator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/image_io.h"
#include "scheduler/progress.h"
#include "scheduler/run_params.h"
#include "tests/smooth_png.h"
#include "tests/scheduler/fake_executors.h"
#include "tests/store/read_shards.h"
#include "tests/scheduler/store_sweep_fixture.h"

namespace stylesweep {
namespace {

using testing::MakeJobs;
using testing::RecordingExecutor;

class CoordinatorTest : public testing::StoreSweepTest {
 protected:
  void SetUp() override { OpenStore("fake"); }

  // One sweep through the local transport on executor_.
  SweepSummary Sweep(const std::vector<JobSpec>& jobs, const CoordinatorOptions& options = {}) {
    return RunOneSweep(executor_, jobs, options);
  }

  RecordingExecutor executor_;
};

TEST_F(CoordinatorTest, EveryJobFinishesOnceWithMetricsAndImage) {
  const auto jobs = MakeJobs(5);
  SweepSummary summary = Sweep(jobs);
  EXPECT_EQ(summary.total, 5);
  EXPECT_EQ(summary.finished, 5);
  EXPECT_EQ(summary.failed, 0);
  EXPECT_EQ(summary.attempts, 5);
  EXPECT_FALSE(summary.interrupted);
  EXPECT_EQ(executor_.ran.size(), 5u);
  auto runs = RunsByKey();
  ASSERT_EQ(runs.size(), 5u);
  for (const JobSpec& job : jobs) {
    const RunRecord& run = runs.at(job.job_key);
    EXPECT_EQ(run.status, RunStatus::kFinished);
    EXPECT_EQ(run.attempts, 1);
    EXPECT_EQ(run.params.at("content").ToText(), "c" + std::to_string(job.index) + ".png");
    EXPECT_EQ(run.params.at("style_weight").type, ParamValue::Type::kNumber);
    EXPECT_EQ(run.latest_metrics.count("total_loss"), 1u);
    ASSERT_EQ(run.artifacts.size(), 1u);
    EXPECT_EQ(run.artifacts[0].kind, ArtifactKind::kFinal);
    EXPECT_TRUE(std::filesystem::exists(store_->ArtifactPath(run.artifacts[0])));
  }
  auto experiment = store_->GetExperiment("fake");
  ASSERT_TRUE(experiment.ok());
  EXPECT_EQ(experiment->run_counts[RunStatus::kFinished], 5);
}

TEST_F(CoordinatorTest, ReRunSkipsFinishedJobs) {
  const auto jobs = MakeJobs(4);
  Sweep(jobs);
  executor_.ran.clear();
  SweepSummary again = Sweep(jobs);
  EXPECT_TRUE(executor_.ran.empty());
  EXPECT_EQ(again.skipped, 4);
  EXPECT_EQ(again.finished, 0);
  for (const auto& [key, run] : RunsByKey()) EXPECT_EQ(run.attempts, 1) << key;
}

TEST_F(CoordinatorTest, RunsLongestJobsFirst) {
  Sweep(MakeJobs(4, 0, {10, 40, 20, 30}));
  EXPECT_EQ(executor_.ran, (std::vector<int>{1, 3, 2, 0}));
}

TEST_F(CoordinatorTest, FailedJobIsRecordedRetriedAndTheSweepGoesOn) {
  const auto jobs = MakeJobs(4);
  executor_.fail_indices = {2};
  CoordinatorOptions options;
  options.retries = 2;
  SweepSummary summary = Sweep(jobs, options);
  EXPECT_EQ(summary.finished, 3);
  EXPECT_EQ(summary.failed, 1);
  EXPECT_EQ(summary.attempts, 6);
  auto runs = RunsByKey();
  const RunRecord& failed = runs.at(jobs[2].job_key);
  EXPECT_EQ(failed.status, RunStatus::kFailed);
  EXPECT_EQ(failed.attempts, 3);
  EXPECT_NE(failed.error_message.find("/images/c2.png"), std::string::npos) << failed.error_message;
  EXPECT_EQ(runs.at(jobs[3].job_key).status, RunStatus::kFinished);

  // A plain re-run leaves the FAILED job alone; --retry-failed runs it again.
  executor_.ran.clear();
  Sweep(jobs, options);
  EXPECT_TRUE(executor_.ran.empty());
  executor_.fail_indices.clear();
  options.retry_failed = true;
  SweepSummary retried = Sweep(jobs, options);
  EXPECT_EQ(executor_.ran, (std::vector<int>{2}));
  EXPECT_EQ(retried.finished, 1);
  EXPECT_EQ(RunsByKey().at(jobs[2].job_key).status, RunStatus::kFinished);
}

TEST_F(CoordinatorTest, AResumedSweepOfHundredsOfJobsFindsItsRunsAndRunsOnlyTheRest) {
  // Several jobs per style and cost tier, a job table built from the list,
  // the runs created in bulk: the first sweep stops after 120 jobs.
  std::vector<double> costs;
  for (int i = 0; i < 300; ++i) costs.push_back(100.0 + (i % 7));
  const auto jobs = MakeJobs(300, 5, costs);
  bool stop = false;
  executor_.before_run = [&](const JobSpec&) { stop = stop || executor_.ran.size() > 120; };
  CoordinatorOptions options;
  options.should_stop = [&] { return stop; };
  options.stop_grace_seconds = 0.1;
  SweepSummary first = Sweep(jobs, options);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.finished, 120);
  auto runs = store_->ListRunStates(first.experiment_id);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 300u);  // every run exists from the start, QUEUED until it runs

  stop = false;
  executor_.before_run = nullptr;
  const std::set<int> ran_first(executor_.ran.begin(), executor_.ran.end());
  executor_.ran.clear();
  SweepSummary resumed = Sweep(jobs);
  EXPECT_EQ(resumed.skipped, 120);
  EXPECT_EQ(resumed.finished, 180);
  EXPECT_EQ(resumed.experiment_id, first.experiment_id);
  for (const int index : executor_.ran) {
    if (ran_first.count(index) != 0) {
      EXPECT_EQ(RunsByKey().at(jobs[index].job_key).attempts, 2) << "only the killed job runs again: " << index;
    }
  }
  for (const auto& [key, run] : RunsByKey()) EXPECT_EQ(run.status, RunStatus::kFinished) << key;
}

TEST_F(CoordinatorTest, StopRecordsRunningJobKilledAndReRunCompletes) {
  const auto jobs = MakeJobs(5);
  bool stop = false;
  executor_.before_run = [&](const JobSpec& job) {
    if (executor_.ran.size() == 3) stop = true;
    (void)job;
  };
  CoordinatorOptions options;
  options.should_stop = [&] { return stop; };
  options.stop_grace_seconds = 0.1;
  SweepSummary summary = Sweep(jobs, options);
  EXPECT_TRUE(summary.interrupted);
  EXPECT_EQ(summary.finished, 2);
  EXPECT_EQ(summary.killed, 1);
  EXPECT_EQ(summary.not_started, 2);
  int killed = 0;
  for (const auto& [key, run] : RunsByKey()) {
    EXPECT_NE(run.status, RunStatus::kRunning) << key;
    killed += run.status == RunStatus::kKilled;
  }
  EXPECT_EQ(killed, 1);

  stop = false;
  executor_.before_run = nullptr;
  SweepSummary resumed = Sweep(jobs);
  EXPECT_EQ(resumed.finished, 3);
  EXPECT_EQ(resumed.skipped, 2);
  for (const auto& [key, run] : RunsByKey()) EXPECT_EQ(run.status, RunStatus::kFinished) << key;
}

TEST_F(CoordinatorTest, RunLeftRunningByACrashIsRequeued) {
  const auto jobs = MakeJobs(3);
  auto experiment = store_->CreateOrGetExperiment("fake", "sweep text", "hash", "test");
  ASSERT_TRUE(experiment.ok());
  auto run_id = store_->EnsureRun(*experiment, jobs[1].job_key, RunParamsForJob(jobs[1]));
  ASSERT_TRUE(run_id.ok()) << run_id.status().ToString();
  ASSERT_TRUE(store_->StartRun(*run_id, "crashed-host", 2, "cpu").ok());

  SweepSummary summary = Sweep(jobs);
  EXPECT_EQ(summary.finished, 3);
  auto runs = RunsByKey();
  EXPECT_EQ(runs.at(jobs[1].job_key).status, RunStatus::kFinished);
  EXPECT_EQ(runs.at(jobs[1].job_key).attempts, 2);
}

// Two workers: worker 0 (host nodeA) runs every job at once; worker 1 (host
// nodeB) takes its first assignment and goes silent, and once the
// coordinator has given up on it sends that job's result late.
class SilentWorkerTransport : public Transport {
 public:
  explicit SilentWorkerTransport(JobExecutor* executor) : executor_(executor) {}

  int num_workers() const override { return 2; }
  Status Assign(int worker, const JobAssignment& assignment) override {
    if (worker == 0) pending_.push_back(assignment);
    else if (!silent_job_) silent_job_ = assignment;
    return Status::Ok();
  }
  Status AssignBatch(int worker, const std::vector<JobAssignment>& assignments) override {
    for (const JobAssignment& assignment : assignments) SS_RETURN_IF_ERROR(Assign(worker, assignment));
    return Status::Ok();
  }
  Result<WorkerEvent> Next(double timeout_seconds) override {
    WorkerEvent event;
    if (announced_ < 2) {
      event.kind = WorkerEvent::Kind::kReady;
      event.worker = announced_;
      // nodeB's worker is local rank 1 with a GPU for cuda jobs (the jobs here run on the CPU).
      event.hello = announced_ == 0 ? WorkerHello{"nodeA", 1, 0, 1, "cpu"} : WorkerHello{"nodeB", 2, 1, 1, "cuda:1"};
      ++announced_;
      return event;
    }
    if (lost_ && silent_job_ && !late_report_sent_) {
      late_report_sent_ = true;
      event.kind = WorkerEvent::Kind::kReport;
      event.worker = 1;
      event.report = ExecuteAssignment(*executor_, *silent_job_, [] { return false; });
      return event;
    }
    if (!pending_.empty()) {
      event.kind = WorkerEvent::Kind::kReport;
      event.worker = 0;
      event.report = ExecuteAssignment(*executor_, pending_.front(), [] { return false; });
      pending_.erase(pending_.begin());
      return event;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(timeout_seconds));
    return event;
  }
  void StopWorkers() override {}
  void MarkLost(int worker) override { lost_ = lost_ || worker == 1; }

  std::optional<JobAssignment> silent_job_;  // what worker 1 was given
  bool late_report_sent_ = false;

 private:
  JobExecutor* executor_;
  int announced_ = 0;
  bool lost_ = false;
  std::vector<JobAssignment> pending_;
};

TEST_F(CoordinatorTest, SilentWorkerIsLostItsJobRunsElsewhereAndItsLateResultIsIgnored) {
  const auto jobs = MakeJobs(4);
  SilentWorkerTransport transport(&executor_);
  std::ostringstream progress;
  CoordinatorOptions options;
  options.worker_timeout_seconds = 0.3;
  options.progress = &progress;
  Result<SweepSummary> summary = RunSweep(spec_, spec_.name, "sweep text", jobs, *store_, transport, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->workers_lost, 1);
  EXPECT_EQ(summary->finished, 4);
  EXPECT_EQ(summary->killed, 0);
  EXPECT_EQ(summary->attempts, 5);
  ASSERT_TRUE(transport.silent_job_.has_value());
  EXPECT_TRUE(transport.late_report_sent_);
  for (const auto& [key, run] : RunsByKey()) {
    EXPECT_EQ(run.status, RunStatus::kFinished) << key;
    EXPECT_EQ(run.host, "nodeA") << key;
    EXPECT_EQ(run.attempts, key == transport.silent_job_->job.job_key ? 2 : 1) << key;
  }
  EXPECT_NE(progress.str().find("lost worker 2 (rank 2 on host nodeB): silent for"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("ignored a late report"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("[sweep] worker 1: rank 1 on host nodeA, local rank 0, no GPU visible\n"),
            std::string::npos)
      << progress.str();
  EXPECT_NE(progress.str().find("[sweep] worker 2: rank 2 on host nodeB, local rank 1, device cuda runs on cuda:1\n"),
            std::string::npos)
      << progress.str();
}

TEST_F(CoordinatorTest, DatasetGetsImagesAndOneManifestLinePerJob) {
  const std::string dataset = dir_.path() + "/dataset";
  spec_.output.dataset_dir = dataset;
  auto jobs = MakeJobs(3);
  for (JobSpec& job : jobs) job.params.push_back({"normalize_objective", job.index == 0 ? "true" : "false"});
  Sweep(jobs);
  std::ifstream manifest(dataset + "/manifest.jsonl");
  std::string line;
  std::map<std::string, nlohmann::json> entries;
  while (std::getline(manifest, line)) {
    auto entry = nlohmann::json::parse(line);
    entries[entry["job_key"].get<std::string>()] = entry;
  }
  ASSERT_EQ(entries.size(), 3u);
  auto runs = RunsByKey();
  for (const JobSpec& job : jobs) {
    const auto& entry = entries.at(job.job_key);
    EXPECT_EQ(entry["file"], job.output_name + ".png");
    EXPECT_EQ(entry["content"], job.content_path);
    EXPECT_EQ(entry["run_id"], runs.at(job.job_key).id);
    EXPECT_EQ(entry["params"]["style_weight"].dump(), "1000");  // a JSON number, like every JSON output
    EXPECT_EQ(entry["params"]["normalize_objective"], nlohmann::json(job.index == 0)) << entry.dump();  // a boolean
    EXPECT_TRUE(std::filesystem::exists(dataset + "/" + job.output_name + ".png"));
  }
}

TEST_F(CoordinatorTest, NestedOutputNamesMakeAClassPerFolderTree) {
  const std::string dataset = dir_.path() + "/tree";
  spec_.output.dataset_dir = dataset;
  auto jobs = MakeJobs(4);
  for (JobSpec& job : jobs) job.output_name = "style" + std::to_string(job.index % 2) + "/" + job.output_name;
  SweepSummary summary = Sweep(jobs);
  EXPECT_EQ(summary.output_errors, 0);
  for (const JobSpec& job : jobs) EXPECT_TRUE(std::filesystem::exists(dataset + "/" + job.output_name + ".png")) << job.output_name;
  EXPECT_TRUE(std::filesystem::is_directory(dataset + "/style1"));
}

// Returns, like the engine, a final image whose longest side is the job's
// size, keeping the content image's aspect ratio.
class SizedOutputExecutor : public JobExecutor {
 public:
  Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) override {
    SS_ASSIGN_OR_RETURN(JobOutcome outcome, noop_.Execute(job, should_stop));
    SS_ASSIGN_OR_RETURN(ImageInfo content, ReadImageInfo(job.content_path));
    Image image;
    ScaleToLongestSide(content.width, content.height, job.options.size, image.width, image.height);
    image.pixels.assign(image.num_samples(), 0.25f);
    SS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> png, EncodePng(image));
    outcome.final_image = EncodedImage{std::string(png.begin(), png.end()), image.width, image.height, 1};
    return outcome;
  }

 private:
  NoopExecutor noop_;
};

TEST_F(CoordinatorTest, WebDatasetOutputPacksPairedSamplesIntoShards) {
  const std::string dataset = dir_.path() + "/shards";
  spec_.output.dataset_dir = dataset;
  spec_.output.format = "webdataset";
  spec_.output.shard_size = 2;
  spec_.output.include_content = true;
  auto jobs = MakeJobs(5);
  for (JobSpec& job : jobs) {
    job.params.push_back({"tf32", job.index % 2 == 0 ? "true" : "false"});
    job.content_path = dir_.path() + "/c" + std::to_string(job.index) + ".png";
    testing::WriteSmoothPng(job.content_path, 60 + 4 * job.index, 45, job.index + 1);  // larger than size 32
  }
  SizedOutputExecutor executor;
  SweepSummary summary = RunOneSweep(executor, jobs, {});
  EXPECT_EQ(summary.finished, 5);
  EXPECT_EQ(summary.output_errors, 0);
  Result<std::map<std::string, testing::ShardContents>> shards = testing::ReadShards(dataset);
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 3u);  // 2 + 2 + 1
  EXPECT_EQ(shards->begin()->first, spec_.name + "-000000.tar");
  std::map<std::string, int> seen;
  for (const auto& [name, samples] : *shards) {
    for (const auto& [key, files] : samples) {
      ++seen[key];
      ASSERT_EQ(files.size(), 3u) << key;
      const nlohmann::json meta = nlohmann::json::parse(files.at("json"));
      EXPECT_EQ(meta["job_key"], key);
      EXPECT_TRUE(meta["params"]["tf32"].is_boolean()) << meta.dump();  // as in `plan --format json`
      const std::string& stylised = files.at("png");
      const std::string& content = files.at("content.png");
      Result<Image> out = DecodeImage(std::vector<std::uint8_t>(stylised.begin(), stylised.end()), key + ".png");
      Result<Image> in = DecodeImage(std::vector<std::uint8_t>(content.begin(), content.end()), key + ".content.png");
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      ASSERT_TRUE(in.ok()) << in.status().ToString();
      // The pair is aligned: the content as the network saw it, not the original file.
      EXPECT_EQ(out->width, 32) << key;
      EXPECT_EQ(in->width, out->width) << key;
      EXPECT_EQ(in->height, out->height) << key;
    }
  }
  ASSERT_EQ(seen.size(), 5u);
  for (const JobSpec& job : jobs) EXPECT_EQ(seen[job.job_key], 1) << job.job_key;
  EXPECT_FALSE(std::filesystem::exists(dataset + "/" + jobs[0].output_name + ".png"));
}

TEST(RunParams, SettingsAreTypedAndSweptValuesKept) {
  JobSpec job = MakeJobs(1).front();
  job.options.style_layers = {"relu1_1", "relu2_1"};
  job.params.push_back({"alpha_beta", "0.001"});
  job.style_paths.push_back("/images/other.jpg");
  Params params = RunParamsForJob(job);
  EXPECT_EQ(params.at("size").type, ParamValue::Type::kNumber);
  EXPECT_DOUBLE_EQ(params.at("size").number, 32);
  EXPECT_EQ(params.at("style_layers").ToText(), R"(["relu1_1","relu2_1"])");
  EXPECT_DOUBLE_EQ(params.at("alpha_beta").number, 0.001);
  EXPECT_EQ(params.at("style").ToText(), R"(["s0.png","other.jpg"])");
  EXPECT_EQ(params.count("device"), 0u) << "placement is not part of a run's identity";
}

TEST(RunParams, OnOffSettingsPrintAsJsonBooleans) {
  const BoolParamKeys& bools = BoolOptionKeys();
  for (const char* key : {"tf32", "normalize_objective", "channels_last"}) EXPECT_EQ(bools.count(key), 1u) << key;
  EXPECT_EQ(bools.count("size"), 0u);
  EXPECT_EQ(TypedParamJson("tf32", "true"), nlohmann::json(true));
  EXPECT_EQ(TypedParamJson("normalize_objective", "false"), nlohmann::json(false));
  EXPECT_EQ(TypedParamJson("init", "content"), nlohmann::json("content"));
  EXPECT_EQ(TypedParamJson("size", "256").dump(), "256");
  JobSpec job = MakeJobs(1).front();
  job.options.tf32 = true;
  EXPECT_EQ(StyleOptionsJson(job.options).at("tf32"), nlohmann::json(true));
}

TEST(Progress, LineShowsCountsWorkersRateAndTimeLeft) {
  ProgressState state;
  state.done = 6;
  state.total = 10;
  state.failed = 1;
  state.workers = {"tubingen_starry 8s", "idle"};
  EXPECT_EQ(ProgressReporter::FormatLine(state, 120.0),
            "[sweep] 6/10 done, 1 failed | w1: tubingen_starry 8s, w2: idle | 3.0 jobs/min, 1m left");
  std::ostringstream out;
  ProgressReporter reporter(&out, false, 0.0);
  reporter.Update(state);
  reporter.Message("job failed");
  EXPECT_NE(out.str().find("6/10 done"), std::string::npos);
  EXPECT_NE(out.str().find("job failed\n"), std::string::npos);
}

}  // namespace
}  // namespace stylesweep
