#include "scheduler/snapshot_schedule.h"

#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <sstream>
#include <thread>

#include "common/duration.h"
#include "common/file_io.h"
#include "common/sha256.h"
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
  options.snapshot_every = 0.05;
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
  options.snapshot_every = 0.02;
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

// The snapshot folder on a real filesystem that fills up or turns read-only
// in the middle of a sweep (a 1 MiB tmpfs; root only).
class SnapshotFilesystemSweepTest : public SnapshotScheduleTest {
 protected:
  void SetUp() override {
    SnapshotScheduleTest::SetUp();
    if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    mount_dir_ = dir_.path() + "/mnt";
    std::filesystem::create_directories(mount_dir_);
    if (mount("tmpfs", mount_dir_.c_str(), "tmpfs", 0, "size=1m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) umount2(mount_dir_.c_str(), MNT_DETACH);
  }

  // Runs 10 jobs with snapshots into the tmpfs; `trouble` is called before
  // job 3 and `relief` before job 7. Returns the snapshot log.
  std::string SweepThrough(const std::function<void()>& trouble, const std::function<void()>& relief,
                           SnapshotSchedule** schedule_out = nullptr) {
    SnapshotScheduleOptions options;
    options.snapshot_dir = mount_dir_ + "/snap";
    options.snapshot_every = 0.02;
    std::ostringstream log;
    options.log = &log;
    SnapshotSchedule schedule(store_->dir(), options);
    executor_.before_run = [&](const JobSpec& job) {
      if (job.index == 3) trouble();
      if (job.index == 7) relief();
      std::this_thread::sleep_for(std::chrono::milliseconds(40));
    };
    CoordinatorOptions sweep;
    sweep.snapshots = &schedule;
    SweepSummary summary = RunOneSweep(executor_, MakeJobs(10), sweep);
    EXPECT_EQ(summary.finished, 10) << "the sweep goes on";
    EXPECT_EQ(Finished(store_->dir()), 10) << "nothing finished is lost from the live store";
    EXPECT_GE(schedule.failures(), 1) << log.str();
    const std::string text = log.str();
    int warnings = 0;
    // One "warning: failed:" line per failure (the reason itself may say "failed" again).
    for (std::size_t at = text.find("warning: failed: "); at != std::string::npos;
         at = text.find("warning: failed: ", at + 1)) {
      ++warnings;
    }
    EXPECT_EQ(warnings, schedule.failures()) << "one warning per failure\n" << text;
    EXPECT_EQ(Finished(options.snapshot_dir), 10) << "a later snapshot retried and holds everything\n" << text;
    return text;
  }

  std::string mount_dir_;
  bool mounted_ = false;
};

TEST_F(SnapshotFilesystemSweepTest, FullDiskWarnsAndTheNextSnapshotRetries) {
  const std::string filler = mount_dir_ + "/filler";
  const std::string log = SweepThrough(
      [&] {
        std::ofstream out(filler, std::ios::binary);
        const std::string chunk(4096, 'f');
        for (int i = 0; i < 1024 && out; ++i) out.write(chunk.data(), chunk.size()), out.flush();
      },
      [&] { std::filesystem::remove(filler); });
  EXPECT_TRUE(log.find("No space left on device") != std::string::npos || log.find("is full") != std::string::npos)
      << log;
}

TEST_F(SnapshotFilesystemSweepTest, ReadOnlyFilesystemWarnsAndTheNextSnapshotRetries) {
  const std::string log = SweepThrough(
      [&] { ASSERT_EQ(mount(nullptr, mount_dir_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0); },
      [&] { ASSERT_EQ(mount(nullptr, mount_dir_.c_str(), nullptr, MS_REMOUNT, nullptr), 0); });
  EXPECT_NE(log.find("Read-only file system"), std::string::npos) << log;
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
