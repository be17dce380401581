#include "store/snapshot.h"

#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/file_io.h"
#include "common/sha256.h"
#include "store/run_store.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    live_dir_ = dir_.path() + "/live";
    snap_dir_ = dir_.path() + "/snap";
    auto store = RunStore::Open(live_dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto experiment = store_->CreateOrGetExperiment("exp", "name: exp", "hash", "test");
    ASSERT_TRUE(experiment.ok());
    experiment_ = *experiment;
  }

  // A run of the experiment, FINISHED with one metric and a final image
  // whose bytes depend on `n`; returns its id.
  int64_t AddFinishedRun(int n) {
    Params params;
    params["n"] = ParamValue::Number(n);
    auto id = store_->EnsureRun(experiment_, "key" + std::to_string(n), params);
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(store_->StartRun(*id, "host", 1, "cpu").ok());
    RunResult result;
    result.status = RunStatus::kFinished;
    result.metrics.push_back(MetricPoint{"total_loss", 1, 10.0 + n, 0});
    ArtifactInput image;
    image.kind = ArtifactKind::kFinal;
    image.step = 1;
    image.bytes = std::string(100 + n, static_cast<char>(n));
    image.width = 4;
    image.height = 4;
    result.artifacts.push_back(image);
    EXPECT_TRUE(store_->RecordRunResult(*id, result).ok());
    return *id;
  }

  int64_t AddQueuedRun(int n) {
    Params params;
    params["n"] = ParamValue::Number(n);
    auto id = store_->EnsureRun(experiment_, "key" + std::to_string(n), params);
    EXPECT_TRUE(id.ok());
    return *id;
  }

  std::unique_ptr<RunStore> OpenSnapshot() {
    StoreOptions options;
    options.mode = OpenMode::kReadOnly;
    auto store = RunStore::Open(snap_dir_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  int64_t CountRuns(RunStore& store, RunStatus status) {
    RunQuery query;
    query.experiment = "exp";
    auto runs = store.ListRuns(query);
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    int64_t count = 0;
    for (const RunRecord& run : *runs) count += run.status == status;
    return count;
  }

  testing::TempDir dir_;
  std::string live_dir_, snap_dir_;
  std::unique_ptr<RunStore> store_;
  int64_t experiment_ = 0;
};

TEST_F(SnapshotTest, IsACompleteStoreWithEveryArtifactIntact) {
  for (int n = 0; n < 3; ++n) AddFinishedRun(n);
  AddQueuedRun(3);
  SnapshotWriter writer(live_dir_, snap_dir_);
  SnapshotInfo info;
  info.experiment = "exp";
  auto stats = writer.Write(info);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->artifacts, 3);
  EXPECT_EQ(stats->artifacts_copied, 3);
  EXPECT_GT(stats->database_bytes, 0);
  EXPECT_TRUE(stats->warnings.empty());

  auto snapshot = OpenSnapshot();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(CountRuns(*snapshot, RunStatus::kFinished), 3);
  EXPECT_EQ(CountRuns(*snapshot, RunStatus::kQueued), 1);
  RunQuery query;
  query.experiment = "exp";
  auto listed_runs = snapshot->ListRuns(query);
  ASSERT_TRUE(listed_runs.ok());
  for (const RunRecord& listed : *listed_runs) {
    auto run = snapshot->GetRun(listed.id);
    ASSERT_TRUE(run.ok());
    for (const Artifact& artifact : run->artifacts) {
      auto bytes = ReadWholeFile(snapshot->ArtifactPath(artifact));
      ASSERT_TRUE(bytes.ok()) << artifact.path;
      EXPECT_EQ(Sha256Hex(*bytes), artifact.sha256) << artifact.path;
    }
  }
  // Rollback-journal mode (readable on network filesystems), nothing left over.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((snap_dir_ + "/store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "delete");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  for (const auto& entry : fs::directory_iterator(snap_dir_)) {
    EXPECT_TRUE(entry.path().filename() == "store.db" || entry.path().filename() == "artifacts") << entry.path();
  }

  auto read = ReadSnapshotInfo(snap_dir_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->experiment, "exp");
  EXPECT_EQ((*read)->source_dir, live_dir_);
  EXPECT_GT((*read)->taken_time, 0);
  auto live = ReadSnapshotInfo(live_dir_);
  ASSERT_TRUE(live.ok());
  EXPECT_FALSE(live->has_value()) << "the live store is not a snapshot";
}

TEST_F(SnapshotTest, LaterSnapshotsCopyOnlyNewArtifacts) {
  AddFinishedRun(0);
  AddFinishedRun(1);
  SnapshotWriter writer(live_dir_, snap_dir_);
  ASSERT_TRUE(writer.Write({}).ok());
  auto again = writer.Write({});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->artifacts, 2);
  EXPECT_EQ(again->artifacts_copied, 0);
  AddFinishedRun(2);
  auto third = writer.Write({});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->artifacts_copied, 1);
  EXPECT_EQ(third->artifact_bytes_copied, 102);
  // A new writer (a resubmitted job) finds the files already there.
  SnapshotWriter fresh(live_dir_, snap_dir_);
  auto fourth = fresh.Write({});
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->artifacts_copied, 0);
}

TEST_F(SnapshotTest, DamagedOrMissingArtifactIsLeftOutWithAWarning) {
  const int64_t damaged = AddFinishedRun(0);
  const int64_t missing = AddFinishedRun(1);
  AddFinishedRun(2);
  auto damaged_run = store_->GetRun(damaged);
  auto missing_run = store_->GetRun(missing);
  std::ofstream(store_->ArtifactPath(damaged_run->artifacts[0]), std::ios::binary) << "not the image";
  fs::remove(store_->ArtifactPath(missing_run->artifacts[0]));
  SnapshotWriter writer(live_dir_, snap_dir_);
  auto stats = writer.Write({});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->artifacts, 1);
  ASSERT_EQ(stats->warnings.size(), 2u);
  EXPECT_NE(stats->warnings[0].find("do not match the recorded sha256"), std::string::npos) << stats->warnings[0];
  EXPECT_NE(stats->warnings[1].find("left out"), std::string::npos) << stats->warnings[1];
  auto snapshot = OpenSnapshot();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_TRUE(snapshot->GetRun(damaged)->artifacts.empty()) << "a snapshot never names a missing or damaged file";
  EXPECT_TRUE(snapshot->GetRun(missing)->artifacts.empty());
  EXPECT_EQ(CountRuns(*snapshot, RunStatus::kFinished), 3) << "the runs themselves stay";
}

TEST_F(SnapshotTest, FailedSnapshotKeepsThePreviousOneWholeAndTheNextRetries) {
  AddFinishedRun(0);
  bool disk_full = false;
  SnapshotOptions options;
  options.artifact_writer = [&](const std::string& path, std::string_view bytes) {
    if (disk_full) return Status::IoError("writing " + path + ": No space left on device");
    return WriteFileAtomically(path, bytes);
  };
  SnapshotWriter writer(live_dir_, snap_dir_, options);
  ASSERT_TRUE(writer.Write({}).ok());
  AddFinishedRun(1);
  disk_full = true;
  auto failed = writer.Write({});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  EXPECT_NE(failed.status().message().find("No space left on device"), std::string::npos) << failed.status().message();
  {
    auto snapshot = OpenSnapshot();
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(CountRuns(*snapshot, RunStatus::kFinished), 1) << "the previous snapshot, whole";
  }
  EXPECT_EQ(CountRuns(*store_, RunStatus::kFinished), 2) << "the live store keeps everything";
  disk_full = false;
  ASSERT_TRUE(writer.Write({}).ok());
  auto snapshot = OpenSnapshot();
  EXPECT_EQ(CountRuns(*snapshot, RunStatus::kFinished), 2);
}

TEST_F(SnapshotTest, AnOpenWriteTransactionNeitherBlocksNorLeaksIntoTheSnapshot) {
  AddFinishedRun(0);
  sqlite3* writer_db = nullptr;
  ASSERT_EQ(sqlite3_open((live_dir_ + "/store.db").c_str(), &writer_db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer_db, "BEGIN IMMEDIATE; UPDATE runs SET status = 'FAILED'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  SnapshotWriter writer(live_dir_, snap_dir_);
  auto stats = writer.Write({});
  sqlite3_exec(writer_db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer_db);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto snapshot = OpenSnapshot();
  EXPECT_EQ(CountRuns(*snapshot, RunStatus::kFinished), 1) << "only committed state is copied";
}

TEST_F(SnapshotTest, AStoreRestoredFromASnapshotIsLiveOnceMarked) {
  AddFinishedRun(0);
  ASSERT_TRUE(SnapshotWriter(live_dir_, snap_dir_).Write({}).ok());
  const std::string restored = dir_.path() + "/restored";
  fs::copy(snap_dir_, restored, fs::copy_options::recursive);
  ASSERT_TRUE(ReadSnapshotInfo(restored)->has_value());
  ASSERT_TRUE(ClearSnapshotInfo(restored).ok());
  auto info = ReadSnapshotInfo(restored);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->has_value());
  ASSERT_TRUE(ClearSnapshotInfo(restored).ok()) << "a live store: nothing to do";
  auto resumed = RunStore::Open(restored);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(CountRuns(**resumed, RunStatus::kFinished), 1);
}

TEST_F(SnapshotTest, ProgressCountsStatusesRateAndTimeLeft) {
  AddFinishedRun(0);
  AddFinishedRun(1);
  AddQueuedRun(2);
  AddQueuedRun(3);
  const int64_t running = AddQueuedRun(4);
  ASSERT_TRUE(store_->StartRun(running, "host", 1, "cpu").ok());
  SnapshotInfo info;
  info.experiment = "exp";
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  info.sweep_start_time = now - 3600;  // an hour ago: 2 finished since, 2 jobs/h
  ASSERT_TRUE(SnapshotWriter(live_dir_, snap_dir_).Write(info).ok());
  auto progress = ReadSnapshotProgress(snap_dir_);
  ASSERT_TRUE(progress.ok()) << progress.status().ToString();
  ASSERT_TRUE(progress->has_value());
  const SnapshotProgress& p = **progress;
  EXPECT_EQ(p.queued, 2);
  EXPECT_EQ(p.running, 1);
  EXPECT_EQ(p.finished, 2);
  EXPECT_EQ(p.failed, 0);
  EXPECT_NEAR(p.jobs_per_hour, 2.0, 0.01);
  EXPECT_NEAR(p.seconds_left, 3 * 1800.0, 5.0);
  const std::string line = SnapshotProgressLine(p, p.info.taken_time + 30);
  EXPECT_NE(line.find("(30 s ago) of experiment exp (sweep running): 2 queued, 1 running, 2 finished, 0 failed; 2 jobs/h, about 90 min left"),
            std::string::npos)
      << line;
}

TEST_F(SnapshotTest, UnusableFolderIsRefusedWithTheReason) {
  auto same = CheckSnapshotFolder(live_dir_, live_dir_ + "/");
  EXPECT_EQ(same.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(same.message().find("is the store itself"), std::string::npos) << same.message();
  std::ofstream(dir_.path() + "/a_file") << "x";
  auto under_file = CheckSnapshotFolder(live_dir_, dir_.path() + "/a_file/snap");
  EXPECT_EQ(under_file.code(), StatusCode::kIoError);
  EXPECT_NE(under_file.message().find("cannot create the folder"), std::string::npos) << under_file.message();
  EXPECT_TRUE(CheckSnapshotFolder(live_dir_, snap_dir_).ok());
  EXPECT_TRUE(fs::is_empty(snap_dir_)) << "the probe file is removed";
}

TEST_F(SnapshotTest, DamagedSnapshotSaysSo) {
  fs::create_directories(snap_dir_);
  std::ofstream(snap_dir_ + "/store.db") << std::string(4096, 'x');
  auto info = ReadSnapshotInfo(snap_dir_);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(info.status().message().find("damaged"), std::string::npos) << info.status().message();
  auto missing = ReadSnapshotInfo(dir_.path() + "/nothing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// Real filesystems: a full tmpfs and a read-only bind mount (root only).
class SnapshotFilesystemTest : public SnapshotTest {
 protected:
  void SetUp() override {
    SnapshotTest::SetUp();
    if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    mount_dir_ = dir_.path() + "/mnt";
    fs::create_directories(mount_dir_);
    if (mount("tmpfs", mount_dir_.c_str(), "tmpfs", 0, "size=1m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) umount2(mount_dir_.c_str(), MNT_DETACH);
  }
  std::string mount_dir_;
  bool mounted_ = false;
};

TEST_F(SnapshotFilesystemTest, FullDiskFailsTheSnapshotNotTheStore) {
  AddFinishedRun(0);
  const std::string snap = mount_dir_ + "/snap";
  SnapshotWriter writer(live_dir_, snap);
  ASSERT_TRUE(writer.Write({}).ok()) << "a small store fits";
  // Fill the disk, then add runs: the next snapshot cannot be written.
  {
    std::ofstream filler(mount_dir_ + "/filler", std::ios::binary);
    const std::string chunk(4096, 'f');
    for (int i = 0; i < 1024 && filler; ++i) filler.write(chunk.data(), chunk.size()), filler.flush();
  }
  for (int n = 1; n < 4; ++n) AddFinishedRun(n);
  auto full = writer.Write({});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), StatusCode::kIoError) << full.status().ToString();
  EXPECT_NE(full.status().message().find(snap), std::string::npos) << full.status().message();
  {
    StoreOptions options;
    options.mode = OpenMode::kReadOnly;
    auto previous = RunStore::Open(snap, options);
    ASSERT_TRUE(previous.ok()) << previous.status().ToString();
    EXPECT_EQ(CountRuns(**previous, RunStatus::kFinished), 1) << "the previous snapshot, whole";
  }
  EXPECT_EQ(CountRuns(*store_, RunStatus::kFinished), 4);
  fs::remove(mount_dir_ + "/filler");
  ASSERT_TRUE(writer.Write({}).ok()) << "space again: the next snapshot works";
}

TEST_F(SnapshotFilesystemTest, ReadOnlyFilesystemIsRefusedUpFrontAndFailsLaterSnapshots) {
  AddFinishedRun(0);
  const std::string snap = mount_dir_ + "/snap";
  SnapshotWriter writer(live_dir_, snap);
  ASSERT_TRUE(writer.Write({}).ok());
  ASSERT_EQ(mount(nullptr, mount_dir_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0) << std::strerror(errno);
  AddFinishedRun(1);
  auto failed = writer.Write({});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("Read-only file system"), std::string::npos) << failed.status().message();
  auto check = CheckSnapshotFolder(live_dir_, snap);
  EXPECT_EQ(check.code(), StatusCode::kIoError);
  EXPECT_NE(check.message().find("Read-only file system"), std::string::npos) << check.message();
  EXPECT_EQ(CountRuns(*store_, RunStatus::kFinished), 2);
}

}  // namespace
}  // namespace stylesweep
