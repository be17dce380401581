// The sweep's periodic store snapshots (store/snapshot.h): rank 0's
// coordinator calls Poll() between messages; a snapshot that is due runs on
// a background thread with its own read-only connection to the live store,
// so neither the coordinator nor the workers wait for it. A failed snapshot
// (disk full, read-only filesystem) is reported once with its reason and
// retried at the next interval; the live store is only ever read.
//
// Threading: Begin, Poll and Finish are called from one thread (the
// coordinator's); at most one snapshot thread runs at a time.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "common/status.h"
#include "store/snapshot.h"

namespace stylesweep {

struct SnapshotScheduleOptions {
  std::string snapshot_dir;        // --snapshot DIR; required
  double snapshot_every = 300;   // --snapshot-every, s between the starts of two snapshots (default 5 min)
  std::ostream* log = nullptr;     // warnings and notes, one line each; null: none
  SnapshotOptions writer;          // passed to SnapshotWriter (tests inject a failing artifact writer)
};

class SnapshotSchedule {
 public:
  SnapshotSchedule(std::string store_dir, SnapshotScheduleOptions options);
  ~SnapshotSchedule();  // waits for a running snapshot
  SnapshotSchedule(const SnapshotSchedule&) = delete;
  SnapshotSchedule& operator=(const SnapshotSchedule&) = delete;

  // The sweep of `experiment` starts now: the first snapshot starts at once
  // (watchers see the queue), the next ones every interval.
  void Begin(const std::string& experiment);

  // Between events: collects a finished snapshot (a failure is logged) and
  // starts the next when one is due. Returns at once.
  void Poll();

  // The sweep has ended: waits for a running snapshot, then takes a last one
  // marked `sweep_ended`, on this thread. Returns its status (also logged).
  Status Finish();

  int written() const { return written_; }    // snapshots completed
  int failures() const { return failures_; }  // snapshots that failed
  const SnapshotStats& last_stats() const { return last_stats_; }

 private:
  void Start(bool ended);
  void Collect();  // joins the thread and handles its result
  void Handle(const Result<SnapshotStats>& result);

  std::string store_dir_;
  SnapshotScheduleOptions options_;
  SnapshotWriter writer_;  // used by one snapshot at a time
  SnapshotInfo info_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Result<SnapshotStats> result_ = Status::Internal("no snapshot taken");
  bool running_ = false;
  bool begun_ = false;
  double next_due_ = 0;  // steady-clock seconds
  int written_ = 0;
  int failures_ = 0;
  SnapshotStats last_stats_;
};

}  // namespace stylesweep
