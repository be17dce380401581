#include "scheduler/snapshot_schedule.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "common/duration.h"
#include "store/atomic_file.h"
#include "tests/scheduler/fake_executors.h"
#include "tests/scheduler/store_sweep_fixture.h"

namespace stylesweep {
namespace {

using testing::MakeJobs;
using testing::RecordingExecutor;

class SnapshotScheduleTest : public testing::StoreSweepTest {
 protected:
  void SetUp() override {
    OpenStore("fake");
    // Each job takes 40 ms, so that snapshots fall while jobs run.
    executor_.before_run = [](const JobSpec&) { std::this_thread::sleep_for(std::chrono::milliseconds(40)); };
  }

  std::string SnapshotDir() const { return dir_.path() + "/snap"; }

  int64_t Finished(const std::string& store_dir) {
    StoreOptions options;
    options.mode = OpenMode::kReadOnly;
    auto store = RunStore::Open(store_dir, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return -1;
    auto experiment = (*store)->GetExperiment("fake");
    return experiment.ok() ? experiment->run_counts[RunStatus::kFinished] : -1;
  }

  RecordingExecutor executor_;
};

TEST_F(SnapshotScheduleTest, SnapshotsWhileTheSweepRunsAndALastOneAtItsEnd) {
  SnapshotScheduleOptions options;
  options.snapshot_dir = SnapshotDir();
  options.interval_seconds = 0.05;
  std::ostringstream log;
  options.log = &log;
  SnapshotSchedule schedule(store_->dir(), options);
  CoordinatorOptions sweep;
  sweep.snapshots = &schedule;
  SweepSummary summary = RunOneSweep(executor_, MakeJobs(8), sweep);
  EXPECT_EQ(summary.finished, 8);
  EXPECT_GE(schedule.written(), 3) << "the first at the start, some while running, the last at the end\n" << log.str();
  EXPECT_EQ(schedule.failures(), 0) << log.str();
  EXPECT_EQ(Finished(SnapshotDir()), 8) << "the last snapshot holds the sweep's end";
  auto info = ReadSnapshotInfo(SnapshotDir());
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_TRUE((*info)->sweep_ended);
  EXPECT_EQ((*info)->experiment, "fake");
  EXPECT_GT((*info)->sweep_start_time, 0);
  EXPECT_NE(log.str().find("the last holds the sweep's end"), std::string::npos) << log.str();
  auto live = ReadSnapshotInfo(store_->dir());
  ASSERT_TRUE(live.ok());
  EXPECT_FALSE(live->has_value());
}

TEST_F(SnapshotScheduleTest, EachFailedSnapshotWarnsOnceWithItsReasonAndTheNextRetries) {
  std::atomic<int> failures_left{2};
  SnapshotScheduleOptions options;
  options.snapshot_dir = SnapshotDir();
  options.interval_seconds = 0.02;
  options.writer.artifact_writer = [&](const std::string& path, std::string_view bytes) {
    if (failures_left.fetch_sub(1) > 0) return Status::IoError("writing " + path + ": No space left on device");
    return WriteFileAtomically(path, bytes);
  };
  std::ostringstream log;
  options.log = &log;
  SnapshotSchedule schedule(store_->dir(), options);
  CoordinatorOptions sweep;
  sweep.snapshots = &schedule;
  SweepSummary summary = RunOneSweep(executor_, MakeJobs(8), sweep);
  EXPECT_EQ(summary.finished, 8) << "the sweep goes on";
  EXPECT_EQ(Finished(store_->dir()), 8) << "nothing finished is lost from the live store";
  EXPECT_EQ(schedule.failures(), 2) << log.str();
  const std::string text = log.str();
  int warnings = 0;
  for (std::size_t at = text.find("failed: "); at != std::string::npos; at = text.find("failed: ", at + 1)) ++warnings;
  EXPECT_EQ(warnings, 2) << "one warning per failure\n" << text;
  EXPECT_NE(text.find("No space left on device; the sweep goes on"), std::string::npos) << text;
  EXPECT_NE(text.find("tries again in 0.02s"), std::string::npos) << text;
  EXPECT_EQ(Finished(SnapshotDir()), 8) << "a later snapshot succeeded with everything";
}

TEST(ParseDuration, SecondsMinutesHoursAndClearErrors) {
  EXPECT_DOUBLE_EQ(*ParseDuration("2s", "--snapshot-every"), 2);
  EXPECT_DOUBLE_EQ(*ParseDuration("90s", "--snapshot-every"), 90);
  EXPECT_DOUBLE_EQ(*ParseDuration("5m", "--snapshot-every"), 300);
  EXPECT_DOUBLE_EQ(*ParseDuration("1.5h", "--snapshot-every"), 5400);
  for (const char* bad : {"5x", "30", "m", "0s", "-5s", "", "1e3s", "s5"}) {
    auto parsed = ParseDuration(bad, "--snapshot-every");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(std::string("--snapshot-every '") + bad + "'"), std::string::npos)
        << parsed.status().message();
  }
  EXPECT_NE(ParseDuration("5x", "--snapshot-every").status().message().find("unknown unit 'x'"), std::string::npos);
}

}  // namespace
}  // namespace stylesweep
