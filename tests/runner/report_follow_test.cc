// `stylesweep report --follow` end to end: the report is rewritten when the
// snapshot it watches changes, carries the snapshot's progress and reloads
// itself, and following stops by itself once the sweep has ended.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/run_store.h"
#include "store/snapshot.h"
#include "tests/runner/run_stylesweep.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ReportFollowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    live_ = dir_.path() + "/live";
    snapshot_ = dir_.path() + "/snapshot";
    report_ = dir_.path() + "/watch.html";
    auto store = RunStore::Open(live_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto experiment = store_->CreateOrGetExperiment("watched", "name: watched", "hash", "test");
    ASSERT_TRUE(experiment.ok());
    for (int n = 0; n < 3; ++n) {
      Params params;
      params["n"] = ParamValue::Number(n);
      auto id = store_->EnsureRun(*experiment, "key" + std::to_string(n), params);
      ASSERT_TRUE(id.ok());
      run_ids_.push_back(*id);
    }
    info_.experiment = "watched";
    info_.sweep_start_time =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - 60;
  }

  void Finish(int64_t run_id) {
    ASSERT_TRUE(store_->StartRun(run_id, "host", 1, "cpu").ok());
    RunResult result;
    result.status = RunStatus::kFinished;
    result.metrics.push_back(MetricPoint{"total_loss", 1, 1.0, 0});
    ASSERT_TRUE(store_->RecordRunResult(run_id, result).ok());
  }

  void Snapshot(bool ended = false) {
    SnapshotInfo info = info_;
    info.sweep_ended = ended;
    auto written = SnapshotWriter(live_, snapshot_).Write(info);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }

  // Waits until the report's text contains `text`.
  bool WaitForReport(const std::string& text, double seconds = 30) {
    const Clock::time_point start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
      if (ReadFile(report_).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  testing::TempDir dir_;
  std::string live_, snapshot_, report_;
  std::unique_ptr<RunStore> store_;
  std::vector<int64_t> run_ids_;
  SnapshotInfo info_;
};

TEST_F(ReportFollowTest, RewritesOnEachSnapshotAndStopsWhenTheSweepHasEnded) {
  Finish(run_ids_[0]);
  Snapshot();
  testing::CommandResult result;
  // A follow that never stops (what this test catches) runs into the test's timeout.
  std::thread follow([&] {
    result = testing::RunStylesweep({"report", "--store", snapshot_, "--follow", "--follow-every", "1s", "-o", report_});
  });
  const bool first = WaitForReport("\"finished\":1,");
  if (first) {
    const std::string html = ReadFile(report_);
    EXPECT_NE(html.find("\"queued\":2,"), std::string::npos);
    EXPECT_NE(html.find("\"follow_every\":1"), std::string::npos) << "the page reloads itself";
    EXPECT_NE(html.find("location.reload()"), std::string::npos);
  }
  Finish(run_ids_[1]);
  Snapshot();
  const bool second = WaitForReport("\"finished\":2,");
  Finish(run_ids_[2]);
  Snapshot(/*ended=*/true);
  const bool last = WaitForReport("\"finished\":3,");
  // Stops by itself: the sweep ended with nothing left to run.
  follow.join();
  EXPECT_TRUE(first) << "no first report\n" << result.output;
  EXPECT_TRUE(second) << "not rewritten after the second snapshot\n" << result.output;
  EXPECT_TRUE(last) << "not rewritten after the last snapshot\n" << result.output;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("the sweep has ended with nothing left to run; stopped following"), std::string::npos)
      << result.output;
}

TEST_F(ReportFollowTest, ExperimentComesFromTheSnapshotAndBadDurationsAreRefused) {
  Snapshot(/*ended=*/true);
  auto once = testing::RunStylesweep({"report", "--store", snapshot_, "-o", report_});
  EXPECT_EQ(once.exit_code, 0) << once.output;
  EXPECT_NE(ReadFile(report_).find("\"taken_time\""), std::string::npos);
  auto bad = testing::RunStylesweep({"report", "--store", snapshot_, "--follow", "--follow-every", "5x"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--follow-every '5x': unknown unit 'x'"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace stylesweep
