// Store snapshots: a consistent, complete copy of a live store written into
// another folder while the sweep runs, so that finished work survives a lost
// node and can be watched from elsewhere (docs/CLUSTER.md, docs/STORE.md).
//
// A snapshot folder is a store like any other (`store.db` + `artifacts/`):
// every command accepts it as --store, and `stylesweep sweep --store SNAP`
// resumes from it. Its database is in rollback-journal mode (not WAL), so
// it can be read on a shared filesystem, and it holds one extra table,
// `snapshot_info` (when and from where it was taken, and the sweep's start),
// which `runs` and `report` read to show the sweep's progress.
//
// Order of a snapshot (SnapshotWriter::Write):
//  1. one read transaction on the live store (WAL: the writer is never
//     blocked): the list of artifacts, then every database page;
//  2. the artifacts not yet in the snapshot folder are copied first, each
//     checked against its recorded sha256 and written atomically;
//  3. the database copy is written under a temporary name, switched to
//     rollback-journal mode, synced, and renamed over `store.db`.
// A reader (or a crash at any point) sees the previous snapshot or the new
// one, never a database that names a missing artifact. An artifact whose
// source file is missing or does not match its sha256 is left out of the
// snapshot (its row too) with a warning.
//
// Threading: a SnapshotWriter uses its own SQLite connections; it may run on
// another thread than the store's writer (scheduler/snapshot_schedule.h does
// that). One writer per snapshot folder.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/run_store.h"

namespace stylesweep {

// What a snapshot records about itself (table snapshot_info).
struct SnapshotInfo {
  double taken_time = 0;          // s since the Unix epoch, when the database was copied
  std::string source_dir;         // the live store it was copied from, as an absolute path
  std::string host;               // the machine the live store is on
  std::string experiment;         // the sweep's experiment; empty: none given
  double sweep_start_time = 0;    // s since the epoch when that sweep started; 0: unknown
  double snapshot_every = 0;    // s between snapshots (--snapshot-every)
  bool sweep_ended = false;       // the sweep had stopped (finished, failed or interrupted) when taken
};

struct SnapshotStats {
  int64_t artifacts = 0;               // artifacts the snapshot names
  int64_t artifacts_copied = 0;        // of those, copied by this snapshot (the rest were there)
  int64_t artifact_bytes_copied = 0;   // bytes of the copied artifacts
  int64_t database_bytes = 0;          // size of the snapshot's store.db
  double seconds = 0;                  // wall time of the whole snapshot
  std::vector<std::string> warnings;   // artifacts left out, and why
};

struct SnapshotOptions {
  ArtifactWriter artifact_writer;  // writes copied artifacts; empty: WriteFileAtomically (tests inject failures)
  int busy_timeout_ms = 5000;      // ms to wait for the live store's locks
};

// Writes snapshots of one live store into one folder. Remembers which
// artifacts it has copied, so that later snapshots copy only new files.
class SnapshotWriter {
 public:
  SnapshotWriter(std::string store_dir, std::string snapshot_dir, SnapshotOptions options = {});

  // Takes one snapshot (see the order above); `info.taken_time` and
  // `info.source_dir` are filled in here. On error (kIoError: folder not
  // writable, disk full; kCorrupt: the live store is damaged; kNotFound: no
  // live store) the previous snapshot in the folder stays as it was and
  // whole; artifacts copied before the error stay and are reused next time.
  Result<SnapshotStats> Write(SnapshotInfo info);

  const std::string& snapshot_dir() const { return snapshot_dir_; }

 private:
  std::string store_dir_;
  std::string snapshot_dir_;
  SnapshotOptions options_;
  std::set<std::string> present_;  // artifact paths known to be whole in the snapshot folder
};

// Creates `snapshot_dir` if needed and checks that a file can be written
// there. kInvalidArgument when it is the store folder itself; kIoError
// naming the folder and the reason (read-only filesystem, permission, no
// space) otherwise.
Status CheckSnapshotFolder(const std::string& store_dir, const std::string& snapshot_dir);

// The snapshot_info of the store in `store_dir`; nullopt for a live store
// (one that is not a snapshot). kNotFound without a store, kCorrupt when the
// database or its snapshot_info is damaged.
Result<std::optional<SnapshotInfo>> ReadSnapshotInfo(const std::string& store_dir);

// Marks the store in `store_dir` live: removes a snapshot_info table that a
// store restored from a snapshot still carries (one write transaction; none
// when there is nothing to remove). The sweep calls it before it writes.
Status ClearSnapshotInfo(const std::string& store_dir);

// A sweep's progress as a snapshot shows it.
struct SnapshotProgress {
  SnapshotInfo info;
  std::string experiment;        // the experiment counted
  int64_t queued = 0, running = 0, finished = 0, failed = 0, killed = 0;
  int64_t finished_since_start = 0;  // runs that ended FINISHED after the sweep started
  double jobs_per_hour = 0;      // finished_since_start / (taken - sweep start); 0: unknown
  double seconds_left = -1;      // (queued + running + killed) / rate; -1: unknown
};

// Progress of `experiment` (empty: the one the snapshot names) in the store
// in `store_dir`; nullopt for a live store. Errors as ReadSnapshotInfo.
Result<std::optional<SnapshotProgress>> ReadSnapshotProgress(const std::string& store_dir,
                                                             const std::string& experiment = "");

// One line for people: "snapshot taken 2026-12-04 15:10:02 UTC (35 s before
// `now`) of experiment fig3: 3 queued, 2 running, 10 finished, 0 failed;
// 12 jobs/h, about 25 min left". `now` in s since the epoch.
std::string SnapshotProgressLine(const SnapshotProgress& progress, double now);

}  // namespace stylesweep
