// The sweep from a sweep file to the store on the coordinator
// (scheduler/sweep_run.h), through the local transport with a recording
// executor: expansion, shares, batch sizing, placement checks, the best runs
// and the report.
#include "scheduler/sweep_run.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "scheduler/transport.h"
#include "store/run_store.h"
#include "tests/scheduler/fake_executors.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::RecordingExecutor;
using testing::TempDir;

class SweepRunTest : public ::testing::Test {
 protected:
  // The file-hash cache in the test's folder, not the user's ~/.cache.
  void SetUp() override { setenv("STYLESWEEP_HASH_CACHE", (dir_.path() + "/file-hashes.tsv").c_str(), 1); }

  // The shipped quickstart sweep: 2 contents x 2 styles x 2 alpha/beta = 8 jobs.
  SweepSpec Quickstart(const std::vector<std::string>& overrides = {}) {
    Result<SweepSpec> spec = LoadSweepFile(STYLESWEEP_SWEEPS_DIR "/quickstart.yaml", overrides);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    return spec.ok() ? *spec : SweepSpec{};
  }

  SweepRequest Request() {
    SweepRequest request;
    request.file = STYLESWEEP_SWEEPS_DIR "/quickstart.yaml";
    request.store_dir = dir_.path() + "/runs";
    request.progress = "none";
    request.log = &log_;
    return request;
  }

  // `smallest_gpu_bytes`: what the workers reported (0: no GPU).
  SweepOutcome Run(const SweepRequest& request, const SweepSpec& spec, int devices_per_worker = 1,
                   std::int64_t smallest_gpu_bytes = 0) {
    const auto never = [] { return false; };
    LocalTransport transport(&executor_, never, WorkerHello{"host", 0, 0, 1, "cpu"});
    return CoordinateSweep(request, spec, transport, devices_per_worker, smallest_gpu_bytes, never);
  }

  TempDir dir_;
  std::ostringstream log_;
  RecordingExecutor executor_;
};

TEST_F(SweepRunTest, RunsEveryJobThenReadsTheBestRunsAndWritesTheReport) {
  const SweepSpec spec = Quickstart();
  SweepOutcome outcome = Run(Request(), spec);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_TRUE(outcome.coordinator);
  EXPECT_EQ(outcome.summary.total, 8);
  EXPECT_EQ(outcome.summary.finished, 8);
  EXPECT_EQ(executor_.ran.size(), 8u);
  EXPECT_EQ(outcome.best.size(), 3u);  // metric.top in the sweep file
  EXPECT_TRUE(outcome.best_error.empty()) << outcome.best_error;
  EXPECT_EQ(outcome.report_path, dir_.path() + "/runs/report-quickstart.html");
  EXPECT_TRUE(std::filesystem::exists(outcome.report_path));
  EXPECT_TRUE(outcome.report_error.empty()) << outcome.report_error;

  // The stored experiment keeps the sweep file's text, read once.
  auto store = RunStore::Open(dir_.path() + "/runs");
  ASSERT_TRUE(store.ok());
  auto experiment = (*store)->GetExperiment("quickstart");
  ASSERT_TRUE(experiment.ok()) << experiment.status().ToString();
  EXPECT_EQ(experiment->sweep_text, spec.text);
  EXPECT_NE(spec.text.find("name: quickstart"), std::string::npos);

  // Again: every job is skipped.
  SweepOutcome again = Run(Request(), spec);
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_EQ(again.summary.skipped, 8);
  EXPECT_EQ(executor_.ran.size(), 8u);
}

TEST_F(SweepRunTest, RestartRecordsIntoANewExperiment) {
  ASSERT_TRUE(Run(Request(), Quickstart()).status.ok());
  SweepRequest request = Request();
  request.restart = true;
  SweepOutcome outcome = Run(request, Quickstart());
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(outcome.summary.experiment, "quickstart-2");
  EXPECT_EQ(outcome.summary.finished, 8);
}

TEST_F(SweepRunTest, AShareRunsOnlyItsJobsAndSaysSo) {
  SweepRequest request = Request();
  request.share = SweepShare{1, 3};
  SweepOutcome outcome = Run(request, Quickstart());
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(outcome.summary.total, 3);  // positions 1, 4 and 7 of 8
  EXPECT_NE(log_.str().find("share 1/3: 3 of 8 jobs"), std::string::npos) << log_.str();
}

TEST_F(SweepRunTest, AutoBatchOnTheCpuIsOneJobAtATime) {
  SweepRequest request = Request();
  request.batch_jobs = 0;
  SweepOutcome outcome = Run(request, Quickstart());
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_NE(log_.str().find("--batch-jobs auto: 1 "), std::string::npos) << log_.str();
}

// The GPU memory the workers report (SmallestGpuOfWorkers) is what CUDA jobs
// are checked and batches sized against; the coordinator asks no device.
TEST_F(SweepRunTest, CudaJobsLargerThanTheWorkersSmallestGpuAreRefusedBeforeAnyJob) {
  SweepOutcome outcome = Run(Request(), Quickstart({"device=cuda"}), 1, /*smallest_gpu_bytes=*/1 << 20);
  EXPECT_EQ(outcome.status.code(), StatusCode::kOutOfMemory) << outcome.status.ToString();
  EXPECT_NE(outcome.status.message().find("do not fit in 1.00 MiB of device memory"), std::string::npos) << outcome.status.message();
  EXPECT_TRUE(executor_.ran.empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/runs"));  // refused before the store opens

  // No worker sees a GPU: nothing to check against here (the engine says
  // so when a job runs), and the same jobs on the CPU are never checked.
  EXPECT_TRUE(Run(Request(), Quickstart({"device=cuda"}), 1, 0).status.ok());
  SweepRequest cpu = Request();
  cpu.restart = true;
  EXPECT_TRUE(Run(cpu, Quickstart(), 1, 1 << 20).status.ok());
}

TEST_F(SweepRunTest, AutoBatchFillsTheWorkersSmallestGpu) {
  SweepRequest request = Request();
  request.batch_jobs = 0;
  SweepOutcome outcome = Run(request, Quickstart({"device=cuda"}), 1, /*smallest_gpu_bytes=*/80LL << 30);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  // The 8 jobs share one batch key (one backbone, size and optimiser), and
  // a batch of all of them fits 80 GiB.
  EXPECT_NE(log_.str().find("--batch-jobs auto: 8, the largest batch"), std::string::npos) << log_.str();
  EXPECT_NE(log_.str().find("that fits 80.0 GiB"), std::string::npos) << log_.str();
}

// A store whose experiment "judged" has five finished runs; with `scored`,
// each carries the judge's distances (style, content): (0, 4), (1, 10),
// (2, 2), (3, 10), (4, 0), so runs 0, 2 and 4 are the front.
std::unique_ptr<RunStore> StoreOfFinishedRuns(const std::string& dir, bool scored) {
  auto store = RunStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  auto experiment = (*store)->CreateOrGetExperiment("judged", "name: judged", "hash", "test");
  EXPECT_TRUE(experiment.ok());
  for (int i = 0; i < 5; ++i) {
    auto id = (*store)->EnsureRun(*experiment, "run" + std::to_string(i), {});
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE((*store)->StartRun(*id, "host", 1, "cpu").ok());
    RunResult result;
    result.metrics.push_back({"total_loss", 10, 1.0 + i, 0});
    if (scored) {
      result.metrics.push_back({"eval/style_distance", 10, static_cast<double>(i), 0});
      result.metrics.push_back({"eval/content_distance", 10, i % 2 == 1 ? 10.0 : 4.0 - i, 0});
      result.metrics.push_back({"eval/judge_id", 10, 7.0, 0});
    }
    EXPECT_TRUE((*store)->RecordRunResult(*id, result).ok());
  }
  return std::move(store).value();
}

TEST(ReadBestRuns, TheFrontIsComputedUpToTheLimitOfFinishedRuns) {
  TempDir dir;
  std::unique_ptr<RunStore> store = StoreOfFinishedRuns(dir.path() + "/store", /*scored=*/true);
  SweepOutcome outcome;
  ReadBestRuns(SweepSpec{}, "judged", *store, outcome, /*max_front_runs=*/5);
  ASSERT_EQ(outcome.front.size(), 3u);
  EXPECT_EQ(outcome.front_of, 5u);
  EXPECT_EQ(outcome.front_left_out, 0u);
  std::set<std::string> on_front;
  for (const RunRecord& run : outcome.front) on_front.insert(run.config_hash);
  EXPECT_EQ(on_front, (std::set<std::string>{"run0", "run2", "run4"}));
  ASSERT_FALSE(outcome.best.empty());
  EXPECT_EQ(outcome.best.front().config_hash, "run0");  // the lowest total_loss
}

TEST(ReadBestRuns, PastTheLimitTheFrontIsLeftToRunsPareto) {
  TempDir dir;
  std::unique_ptr<RunStore> store = StoreOfFinishedRuns(dir.path() + "/store", /*scored=*/true);
  SweepOutcome outcome;
  ReadBestRuns(SweepSpec{}, "judged", *store, outcome, /*max_front_runs=*/4);
  EXPECT_TRUE(outcome.front.empty());
  EXPECT_EQ(outcome.front_of, 0u);
  EXPECT_EQ(outcome.front_left_out, 5u);
  EXPECT_FALSE(outcome.best.empty());  // the best runs are still read
  const std::string note = FrontLeftOutNote("judged", outcome.front_left_out);
  EXPECT_NE(note.find("not computed over 5 finished runs (more than " + std::to_string(kMaxFrontRuns) + ")"),
            std::string::npos)
      << note;
  EXPECT_NE(note.find("`stylesweep runs -e judged --pareto eval/style_distance,eval/content_distance`"),
            std::string::npos)
      << note;
}

TEST(ReadBestRuns, PastTheLimitRunsWithoutScoresGetNoNote) {
  TempDir dir;
  std::unique_ptr<RunStore> store = StoreOfFinishedRuns(dir.path() + "/store", /*scored=*/false);
  SweepOutcome outcome;
  ReadBestRuns(SweepSpec{}, "judged", *store, outcome, /*max_front_runs=*/4);
  EXPECT_TRUE(outcome.front.empty());
  EXPECT_EQ(outcome.front_left_out, 0u);
}

TEST(SmallestGpuOfWorkers, TheSmallestGpuAmongTheRanksThatRunJobs) {
  EXPECT_EQ(SmallestGpuOfWorkers({0, 80, 40, 0}), 40) << "rank 0 coordinates; 0: a rank without a GPU";
  EXPECT_EQ(SmallestGpuOfWorkers({10, 80, 40}), 40) << "rank 0 of several runs no job: its GPU does not count";
  EXPECT_EQ(SmallestGpuOfWorkers({24}), 24) << "alone, the one rank runs every job";
  EXPECT_EQ(SmallestGpuOfWorkers({0, 0, 0}), 0);
  EXPECT_EQ(SmallestGpuOfWorkers({}), 0);
}

TEST_F(SweepRunTest, DevicesPerJobWithoutMatchingRanksIsRefusedWithTheCommandToUse) {
  SweepOutcome outcome = Run(Request(), Quickstart({"devices_per_job=2"}));
  EXPECT_EQ(outcome.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.status.message().find("mpiexec -n 3 stylesweep sweep"), std::string::npos)
      << outcome.status.message();
  EXPECT_TRUE(executor_.ran.empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/runs"));  // refused before the store opens
}

TEST_F(SweepRunTest, BatchesAndBandsDoNotCombine) {
  SweepRequest request = Request();
  request.batch_jobs = 4;
  SweepOutcome outcome = Run(request, Quickstart({"devices_per_job=2"}), /*devices_per_worker=*/2);
  EXPECT_EQ(outcome.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.status.message().find("do not combine"), std::string::npos) << outcome.status.message();
}

TEST_F(SweepRunTest, AnUnreadableStoreIsAnErrorNamingIt) {
  SweepRequest request = Request();
  request.store_dir = dir_.path() + "/file";
  { std::ofstream(request.store_dir) << "not a folder"; }
  SweepOutcome outcome = Run(request, Quickstart());
  EXPECT_FALSE(outcome.status.ok());
  EXPECT_NE(outcome.status.message().find("store " + request.store_dir), std::string::npos)
      << outcome.status.message();
}

}  // namespace
}  // namespace stylesweep
