// Failures a user meets: a locked database, a file that is not a store, a
// store from a newer stylesweep, a full disk. Each is a clear error and
// loses nothing already committed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/run_store.h"
#include "tests/store/store_test_util.h"

namespace stylesweep {
namespace {

using testing::AddFinishedRun;
using testing::OpenOrDie;
using testing::TempDir;

sqlite3* RawOpen(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  return db;
}

TEST(StoreErrors, LockedDatabaseWaitsThenFailsClearly) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  auto experiment = store->CreateOrGetExperiment("e", "", "", "");
  ASSERT_TRUE(experiment.ok());
  store.reset();

  StoreOptions options;
  options.busy_timeout_ms = 200;
  auto writer = RunStore::Open(dir.path(), options);
  ASSERT_TRUE(writer.ok());
  sqlite3* other = RawOpen(dir.path() + "/store.db");
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto run = (*writer)->EnsureRun(*experiment, "h1", {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kBusy);
  EXPECT_NE(run.status().message().find("is locked by another process (waited 200 ms)"), std::string::npos)
      << run.status().message();
  // Readers are not blocked by the writer's lock.
  auto reader = OpenOrDie(dir.path(), OpenMode::kReadOnly);
  EXPECT_TRUE(reader->ListExperiments().ok());
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE((*writer)->EnsureRun(*experiment, "h1", {}).ok());
}

TEST(StoreErrors, NotADatabaseIsCorruptAndNamesTheFile) {
  TempDir dir;
  std::ofstream(dir.path() + "/store.db") << "this is a text file, not SQLite, padded to be long enough......"
                                            "..................................................................";
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    StoreOptions options;
    options.mode = mode;
    auto store = RunStore::Open(dir.path(), options);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(store.status().message().find(dir.path() + "/store.db"), std::string::npos) << store.status().message();
    // ... and the way out.
    EXPECT_NE(store.status().message().find("restore the store folder from a copy or a --snapshot"), std::string::npos)
        << store.status().message();
  }
}

TEST(StoreErrors, ForeignSqliteDatabaseIsNotTakenOver) {
  TempDir dir;
  sqlite3* db = RawOpen(dir.path() + "/store.db");
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE mine(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = RunStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(store.status().message().find("not a stylesweep store"), std::string::npos);
}

TEST(StoreErrors, NewerSchemaAsksToUpgrade) {
  TempDir dir;
  OpenOrDie(dir.path());
  sqlite3* db = RawOpen(dir.path() + "/store.db");
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    StoreOptions options;
    options.mode = mode;
    auto store = RunStore::Open(dir.path(), options);
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.status().message().find("has schema version 7; this stylesweep knows up to 1; upgrade stylesweep"),
              std::string::npos)
        << store.status().message();
  }
}

TEST(StoreErrors, FullDatabaseFailsClearlyAndKeepsCommittedRuns) {
  TempDir dir;
  int64_t experiment = 0;
  {
    auto store = OpenOrDie(dir.path());
    experiment = *store->CreateOrGetExperiment("e", "", "", "");
    AddFinishedRun(store.get(), experiment, "first", 1, "noise", 1.0);
  }
  StoreOptions options;
  auto probe = OpenOrDie(dir.path());
  sqlite3* raw = RawOpen(dir.path() + "/store.db");
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA page_count", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  options.max_page_count = sqlite3_column_int64(stmt, 0) + 2;  // room for almost nothing
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  probe.reset();

  auto store = RunStore::Open(dir.path(), options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto id = (*store)->EnsureRun(experiment, "second", {});
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE((*store)->StartRun(*id, "h", 0, "cpu").ok());
  RunResult result;
  for (int step = 0; step < 20000; ++step) result.metrics.push_back({"loss", step, 1.0 * step, 0});
  Status status = (*store)->RecordRunResult(*id, result);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("is full"), std::string::npos) << status.message();
  store->reset();

  auto reader = OpenOrDie(dir.path(), OpenMode::kReadOnly);
  RunQuery query;
  auto runs = reader->ListRuns(query);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ(runs->at(0).status, RunStatus::kFinished);
  EXPECT_EQ(runs->at(0).latest_metrics.at("loss").step, 299);
  EXPECT_EQ(runs->at(1).status, RunStatus::kRunning);  // the failed write changed nothing
  EXPECT_TRUE(runs->at(1).latest_metrics.empty());
}

// An artifact writer that writes to /dev/full: the real ENOSPC of a full disk.
Status WriteToDevFull(const std::string& path, std::string_view bytes) {
  const int fd = ::open("/dev/full", O_WRONLY);
  if (fd < 0) return Status::IoError("cannot open /dev/full");
  const ssize_t n = ::write(fd, bytes.data(), bytes.size());
  const int error = errno;
  ::close(fd);
  if (n < 0) return Status::IoError("writing " + path + ": " + std::strerror(error));
  return Status::Ok();
}

TEST(StoreErrors, FullDiskForArtifactsRecordsNothingOfTheResult) {
  TempDir dir;
  int64_t experiment = 0;
  int64_t run = 0;
  {
    auto store = OpenOrDie(dir.path());
    experiment = *store->CreateOrGetExperiment("e", "", "", "");
    AddFinishedRun(store.get(), experiment, "first", 1, "noise", 1.0);
    run = *store->EnsureRun(experiment, "second", {});
    ASSERT_TRUE(store->StartRun(run, "h", 0, "cpu").ok());
  }
  StoreOptions options;
  options.artifact_writer = WriteToDevFull;
  auto store = RunStore::Open(dir.path(), options);
  ASSERT_TRUE(store.ok());
  RunResult result;
  result.metrics = {{"loss", 0, 1.0, 0}};
  ArtifactInput image;
  image.bytes = "png bytes";
  result.artifacts = {image};
  Status status = (*store)->RecordRunResult(run, result);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("No space left on device"), std::string::npos) << status.message();
  auto record = (*store)->GetRun(run);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->status, RunStatus::kRunning);
  EXPECT_TRUE(record->latest_metrics.empty());
  EXPECT_TRUE(record->artifacts.empty());
  auto first = (*store)->ListRuns(RunQuery{"", "status = 'finished'", {}, 0});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 1u);
}

}  // namespace
}  // namespace stylesweep
