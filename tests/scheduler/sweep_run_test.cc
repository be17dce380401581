// The sweep from a sweep file to the store on the coordinator
// (scheduler/sweep_run.h), through the local transport with a recording
// executor: expansion, shares, batch sizing, placement checks, the best runs
// and the report.
#include "scheduler/sweep_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

  SweepOutcome Run(const SweepRequest& request, const SweepSpec& spec, int devices_per_worker = 1) {
    const auto never = [] { return false; };
    LocalTransport transport(&executor_, never, WorkerHello{"host", 0, 0, 1, "cpu"});
    return CoordinateSweep(request, spec, transport, devices_per_worker, never);
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
