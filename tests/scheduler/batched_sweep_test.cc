// Sweeps with --batch-jobs K: a worker gets up to K compatible jobs at once,
// each still its own run (started, finished, failed, killed and retried
// alone). Fakes first, then one sweep on the real engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/shared_dir.h"
#include "scheduler/coordinator.h"
#include "scheduler/engine_executor.h"
#include "tests/scheduler/fake_executors.h"
#include "tests/scheduler/store_sweep_fixture.h"

namespace stylesweep {
namespace {

using testing::BatchRecordingExecutor;
using testing::MakeJobs;

class BatchedSweepTest : public testing::StoreSweepTest {
 protected:
  void SetUp() override { OpenStore("batched"); }

  SweepSummary Sweep(JobExecutor& executor, const std::vector<JobSpec>& jobs, const CoordinatorOptions& options) {
    return RunOneSweep(executor, jobs, options);
  }

  static CoordinatorOptions Batching(int k) {
    CoordinatorOptions options;
    options.batch_jobs = k;
    return options;
  }
};

TEST_F(BatchedSweepTest, CompatibleJobsRunInBatchesOfAtMostKAndEachIsItsOwnRun) {
  BatchRecordingExecutor executor;
  const auto jobs = MakeJobs(7);
  SweepSummary summary = Sweep(executor, jobs, Batching(3));
  EXPECT_EQ(summary.finished, 7);
  EXPECT_EQ(summary.attempts, 7);
  ASSERT_EQ(executor.batches.size(), 3u);
  EXPECT_EQ(executor.batches[0].size(), 3u);
  EXPECT_EQ(executor.batches[1].size(), 3u);
  EXPECT_EQ(executor.batches[2].size(), 1u);
  std::vector<int> ran = executor.ran;
  std::sort(ran.begin(), ran.end());
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  auto runs = RunsByKey();
  ASSERT_EQ(runs.size(), 7u);
  for (const auto& [key, run] : runs) {
    EXPECT_EQ(run.status, RunStatus::kFinished) << key;
    EXPECT_EQ(run.attempts, 1);
    EXPECT_EQ(run.latest_metrics.count("total_loss"), 1u);
    EXPECT_EQ(run.artifacts.size(), 1u);
  }
}

TEST_F(BatchedSweepTest, BatchingOffRunsOneJobAtATime) {
  BatchRecordingExecutor executor;
  Sweep(executor, MakeJobs(4), Batching(1));
  ASSERT_EQ(executor.batches.size(), 4u);
  for (const auto& batch : executor.batches) EXPECT_EQ(batch.size(), 1u);
}

TEST_F(BatchedSweepTest, IncompatibleJobsNeverShareABatch) {
  BatchRecordingExecutor executor;
  auto jobs = MakeJobs(6);
  for (JobSpec& job : jobs) {
    if (job.index % 2 == 1) job.options.size = 64;  // another size: another batch
  }
  jobs[4].options.optimizer = "adam";  // never batched
  SweepSummary summary = Sweep(executor, jobs, Batching(4));
  EXPECT_EQ(summary.finished, 6);
  for (const auto& batch : executor.batches) {
    for (int index : batch) {
      EXPECT_EQ(jobs[index].options.size, jobs[batch.front()].options.size);
      if (index == 4) {
        EXPECT_EQ(batch.size(), 1u) << "the Adam job runs alone";
      }
    }
  }
  EXPECT_EQ(executor.batches.size(), 3u) << "{0,2}, {1,3,5}, {4}";
}

TEST_F(BatchedSweepTest, AFailingJobFailsAloneAndIsRetriedAlone) {
  BatchRecordingExecutor executor;
  executor.fail_indices = {1};
  CoordinatorOptions options = Batching(4);
  options.retries = 1;
  SweepSummary summary = Sweep(executor, MakeJobs(4), options);
  EXPECT_EQ(summary.finished, 3);
  EXPECT_EQ(summary.failed, 1);
  EXPECT_EQ(summary.attempts, 5);
  ASSERT_EQ(executor.batches.size(), 2u);
  EXPECT_EQ(executor.batches[0].size(), 4u);
  EXPECT_EQ(executor.batches[1], (std::vector<int>{1}));
  int failed = 0;
  for (const auto& [key, run] : RunsByKey()) {
    if (run.status == RunStatus::kFailed) {
      ++failed;
      EXPECT_NE(run.error_message.find("c1.png"), std::string::npos) << run.error_message;
    } else {
      EXPECT_EQ(run.status, RunStatus::kFinished);
    }
  }
  EXPECT_EQ(failed, 1);
}

TEST_F(BatchedSweepTest, StopDuringABatchRecordsEveryJobOfItKilled) {
  BatchRecordingExecutor executor;
  bool stop = false;
  executor.before_run = [&](const JobSpec&) { stop = executor.ran.size() >= 4; };
  CoordinatorOptions options = Batching(3);
  options.should_stop = [&] { return stop; };
  options.stop_grace_seconds = 0.1;
  SweepSummary summary = Sweep(executor, MakeJobs(7), options);
  EXPECT_TRUE(summary.interrupted);
  EXPECT_EQ(summary.finished, 3);
  EXPECT_EQ(summary.killed, 3) << "the second batch: one stopped while running, two after it";
  EXPECT_EQ(summary.not_started, 1);
  for (const auto& [key, run] : RunsByKey()) EXPECT_NE(run.status, RunStatus::kRunning) << key;
}

TEST_F(BatchedSweepTest, RealEngineBatchFinishesEveryJobWithItsOwnLosses) {
  EngineExecutorOptions engine_options;
  engine_options.models_dir = SharedModelsDir();
  engine_options.device_count = 0;
  EngineExecutor executor(engine_options);
  auto jobs = MakeJobs(3);
  const char* styles[] = {"starry_night.jpg", "wave.jpg", "the_scream.jpg"};
  for (JobSpec& job : jobs) {
    job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
    job.style_paths = {SharedImagesDir() + "/style/" + styles[job.index]};
    job.options.backbone = "squeezenet1_0";
    job.options.size = 32;
    job.options.num_iterations = 6;
    job.options.style_weight = 1000.0 * (job.index + 1);
  }
  SweepSummary summary = Sweep(executor, jobs, Batching(3));
  EXPECT_EQ(summary.finished, 3);
  std::set<double> final_losses;
  for (const auto& [key, run] : RunsByKey()) {
    ASSERT_EQ(run.status, RunStatus::kFinished) << run.error_message;
    ASSERT_EQ(run.latest_metrics.count("total_loss"), 1u);
    EXPECT_EQ(run.latest_metrics.at("total_loss").step, 6);
    final_losses.insert(run.latest_metrics.at("total_loss").value);
    ASSERT_EQ(run.artifacts.size(), 1u);
    EXPECT_EQ(run.artifacts[0].width, 32);
  }
  EXPECT_EQ(final_losses.size(), 3u) << "three different jobs, three different losses";
}

TEST_F(BatchedSweepTest, RealEngineRecordsWhyAndWhenEachJobOfABatchStopped) {
  // Job 0 asks for the convergence stop with a loose tolerance (half the
  // loss over 2 iterations), job 1 leaves it off; a batch shares its stop
  // settings (BatchCompatibilityKey), so each runs in a batch of its own.
  EngineExecutorOptions engine_options;
  engine_options.models_dir = SharedModelsDir();
  engine_options.device_count = 0;
  EngineExecutor executor(engine_options);
  auto jobs = MakeJobs(2);
  for (JobSpec& job : jobs) {
    job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
    job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
    job.options.backbone = "squeezenet1_0";
    job.options.size = 32;
    job.options.num_iterations = 40;
  }
  jobs[0].options.stop_tolerance = 0.5;
  jobs[0].options.stop_window = 2;
  SweepSummary summary = Sweep(executor, jobs, Batching(2));
  EXPECT_EQ(summary.finished, 2);
  std::map<bool, int> converged_runs;
  for (const auto& [key, run] : RunsByKey()) {
    ASSERT_EQ(run.status, RunStatus::kFinished) << run.error_message;
    ASSERT_EQ(run.latest_metrics.count("stop/iteration"), 1u);
    ASSERT_EQ(run.latest_metrics.count("stop/converged"), 1u);
    const double iterations = run.latest_metrics.at("stop/iteration").value;
    EXPECT_EQ(iterations, run.latest_metrics.at("total_loss").step) << "the last iteration recorded";
    const bool converged = run.latest_metrics.at("stop/converged").value == 1.0;
    ++converged_runs[converged];
    if (converged) {
      EXPECT_GE(iterations, 3) << "not before the window of 2 is full";
      EXPECT_LT(iterations, 40);
    } else {
      EXPECT_EQ(iterations, 40) << "stop off: every iteration runs";
    }
  }
  EXPECT_EQ(converged_runs[true], 1);
  EXPECT_EQ(converged_runs[false], 1);
}

}  // namespace
}  // namespace stylesweep
