// The writer dies (SIGKILL) in the middle of writing, and a reader queries
// while the writer writes: the store must stay whole and nobody errs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "store/run_store.h"
#include "tests/store/store_test_util.h"

namespace stylesweep {
namespace {

using testing::OpenOrDie;
using testing::TempDir;

constexpr int kSteps = 300;
constexpr int kMetrics = 8;

// Child process body: records whole runs forever (or `count` of them),
// writing each committed run id to `report_fd`. Never returns.
[[noreturn]] void WriteRuns(const std::string& dir, int report_fd, int count) {
  StoreOptions options;
  options.busy_timeout_ms = 10000;
  auto store = RunStore::Open(dir, options);
  if (!store.ok()) _exit(2);
  auto experiment = (*store)->CreateOrGetExperiment("crash", "", "", "");
  if (!experiment.ok()) _exit(3);
  for (int i = 0; count == 0 || i < count; ++i) {
    auto id = (*store)->EnsureRun(*experiment, "hash" + std::to_string(i), {{"i", ParamValue::Number(i)}});
    if (!id.ok() || !(*store)->StartRun(*id, "h", 0, "cpu").ok()) _exit(4);
    RunResult result;
    for (int m = 0; m < kMetrics; ++m) {
      for (int step = 0; step < kSteps; ++step) {
        result.metrics.push_back({"metric" + std::to_string(m), step, step * 0.5, 1.0});
      }
    }
    result.timings = {{"optimize", 1.0}};
    if (!(*store)->RecordRunResult(*id, result).ok()) _exit(5);
    const int64_t committed = *id;
    if (::write(report_fd, &committed, sizeof committed) != sizeof committed) _exit(6);
  }
  _exit(0);
}

std::set<int64_t> ReadReports(int fd) {
  std::set<int64_t> ids;
  int64_t id = 0;
  while (::read(fd, &id, sizeof id) == sizeof id) ids.insert(id);
  return ids;
}

TEST(StoreCrash, SigkillMidBatchLosesNoCommittedRunAndLeavesNoHalfRun) {
  for (int trial = 0; trial < 3; ++trial) {
    TempDir dir;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      WriteRuns(dir.path(), fds[1], 0);
    }
    ::close(fds[1]);
    // Let it commit some runs, then kill it at an arbitrary point of a batch.
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + 137 * trial));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int wait_status = 0;
    ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status)) << "writer exited early with " << WEXITSTATUS(wait_status);
    const std::set<int64_t> committed = ReadReports(fds[0]);
    ::close(fds[0]);
    ASSERT_FALSE(committed.empty()) << "the writer committed nothing before the kill";

    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() + "/store.db").c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* check = nullptr;
    sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &check, nullptr);
    ASSERT_EQ(sqlite3_step(check), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(check, 0)), "ok");
    sqlite3_finalize(check);
    sqlite3_close(raw);

    auto store = OpenOrDie(dir.path());  // as the restarted sweep would
    auto runs = store->ListRuns(RunQuery{});
    ASSERT_TRUE(runs.ok()) << runs.status().ToString();
    std::set<int64_t> finished;
    for (const RunRecord& run : *runs) {
      auto history = store->GetMetricHistory(run.id);
      ASSERT_TRUE(history.ok());
      if (run.status == RunStatus::kFinished) {
        finished.insert(run.id);
        EXPECT_EQ(history->size(), static_cast<size_t>(kSteps * kMetrics)) << "run " << run.id;
        EXPECT_EQ(run.latest_metrics.size(), static_cast<size_t>(kMetrics));
      } else {
        // The run in hand when killed: RUNNING, or still QUEUED when the
        // kill fell between EnsureRun and StartRun.
        EXPECT_TRUE(run.status == RunStatus::kRunning || run.status == RunStatus::kQueued)
            << "run " << run.id << " is " << RunStatusName(run.status);
        EXPECT_TRUE(history->empty()) << "half-written run " << run.id;
      }
    }
    for (int64_t id : committed) EXPECT_TRUE(finished.count(id)) << "committed run " << id << " lost";
    auto experiment = store->GetExperiment("crash");
    ASSERT_TRUE(experiment.ok());
    ASSERT_TRUE(store->RequeueUnfinished(experiment->id).ok());
    RunQuery running;
    running.where = "status = 'running'";
    EXPECT_TRUE(store->ListRuns(running)->empty());
  }
}

TEST(StoreConcurrency, ReaderQueriesWhileWriterWrites) {
  TempDir dir;
  OpenOrDie(dir.path());  // create the store so the reader can open it
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    WriteRuns(dir.path(), fds[1], 60);
  }
  ::close(fds[1]);
  auto reader = OpenOrDie(dir.path(), OpenMode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  int queries = 0;
  size_t last_seen = 0;
  while (true) {
    RunQuery query;
    query.where = "status = 'finished' and metrics.metric0 >= 0";
    query.sort = {"metrics.metric3:desc"};
    // Keys appear once the writer has logged them; an unknown key is a user
    // error, so ask for them only once they exist.
    auto keys = reader->MetricKeys();
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    if (keys->size() == static_cast<size_t>(kMetrics)) {
      auto runs = reader->ListRuns(query);
      ASSERT_TRUE(runs.ok()) << runs.status().ToString();
      EXPECT_GE(runs->size(), last_seen);  // committed runs never disappear
      last_seen = runs->size();
      ++queries;
    }
    int wait_status = 0;
    const pid_t done = ::waitpid(child, &wait_status, WNOHANG);
    if (done == child) {
      ASSERT_TRUE(WIFEXITED(wait_status));
      EXPECT_EQ(WEXITSTATUS(wait_status), 0) << "writer failed";
      break;
    }
  }
  EXPECT_EQ(ReadReports(fds[0]).size(), 60u);
  ::close(fds[0]);
  EXPECT_GT(queries, 0);
  RunQuery all;
  all.where = "status = 'finished'";
  EXPECT_EQ(reader->ListRuns(all)->size(), 60u);
}

}  // namespace
}  // namespace stylesweep
