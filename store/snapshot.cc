#include "store/snapshot.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <utility>

#include "common/host_name.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "store/sqlite_db.h"

namespace stylesweep {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kTempPrefix = ".snapshot-store.db.";

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string DatabasePath(const std::string& dir) { return dir + "/" + RunStore::kDatabaseFile; }

// fsync of a file or folder; kIoError naming it.
Status SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return Status::IoError("opening " + path + " to sync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError("syncing " + path + ": " + std::strerror(error));
  return Status::Ok();
}

// An artifact path as recorded: "artifacts/..." with no way out of the folder.
bool SafeArtifactPath(const std::string& path) {
  if (path.rfind(std::string(RunStore::kArtifactsDir) + "/", 0) != 0) return false;
  for (const auto& part : fs::path(path)) {
    if (part == "..") return false;
  }
  return true;
}

struct ArtifactRow {
  std::string path;
  std::string sha256;
  int64_t bytes = 0;
};

// Copies the database pages of `source` (inside its open read transaction)
// into a new database file at `path`, in rollback-journal mode, with
// `dropped` artifact rows removed and `info` recorded. Syncs the file.
Status CopyDatabase(sqlite::Database& source, const std::string& path, const std::vector<std::string>& dropped,
                    const SnapshotInfo& info) {
  {
    SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> dest, sqlite::Database::Open(path, false, 5000));
    sqlite3_backup* backup = sqlite3_backup_init(dest->handle(), "main", source.handle(), "main");
    if (backup == nullptr) return dest->Error(sqlite3_errcode(dest->handle()), "copying the database to " + path);
    const int step = sqlite3_backup_step(backup, -1);
    const int finish = sqlite3_backup_finish(backup);
    if (step != SQLITE_DONE) return dest->Error(step, "copying the database to " + path);
    if (finish != SQLITE_OK) return dest->Error(finish, "copying the database to " + path);
    // A rollback journal: readable without shared memory (network
    // filesystems), and no -wal file to go stale beside a renamed database.
    SS_RETURN_IF_ERROR(dest->Exec("PRAGMA journal_mode = DELETE"));
    SS_RETURN_IF_ERROR(dest->Exec("BEGIN IMMEDIATE"));
    for (const std::string& artifact : dropped) {
      SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Statement> remove,
                          dest->Prepare("DELETE FROM artifacts WHERE path = ?1"));
      remove->Bind(1, artifact);
      SS_RETURN_IF_ERROR(remove->Run());
    }
    SS_RETURN_IF_ERROR(dest->Exec(
        "DROP TABLE IF EXISTS snapshot_info;"
        "CREATE TABLE snapshot_info(taken_time REAL NOT NULL, source_dir TEXT NOT NULL, host TEXT NOT NULL, "
        "experiment TEXT NOT NULL, sweep_start_time REAL NOT NULL, snapshot_every REAL NOT NULL, "
        "sweep_ended INTEGER NOT NULL)"));
    SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Statement> insert,
                        dest->Prepare("INSERT INTO snapshot_info VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    insert->Bind(1, info.taken_time)
        .Bind(2, info.source_dir)
        .Bind(3, info.host)
        .Bind(4, info.experiment)
        .Bind(5, info.sweep_start_time)
        .Bind(6, info.snapshot_every)
        .Bind(7, static_cast<int64_t>(info.sweep_ended ? 1 : 0));
    SS_RETURN_IF_ERROR(insert->Run());
    SS_RETURN_IF_ERROR(dest->Exec("COMMIT"));
  }
  return SyncPath(path, false);
}

// Removes the temporary database files an interrupted snapshot left behind.
void RemoveStaleFiles(const std::string& snapshot_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshot_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kTempPrefix, 0) == 0) fs::remove(entry.path(), ec);
  }
}

Result<std::unique_ptr<sqlite::Database>> OpenReadOnly(const std::string& store_dir) {
  const std::string path = DatabasePath(store_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound("no experiment store at " + store_dir + " (" + path + " does not exist)");
  return sqlite::Database::Open(path, true, 5000);
}

std::string FormatUtc(double seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S UTC", &parts);
  return buffer;
}

std::string FormatSpan(double seconds) {
  char buffer[48];
  if (seconds < 90) std::snprintf(buffer, sizeof(buffer), "%.0f s", seconds);
  else if (seconds < 7200) std::snprintf(buffer, sizeof(buffer), "%.0f min", seconds / 60);
  else std::snprintf(buffer, sizeof(buffer), "%.1f h", seconds / 3600);
  return buffer;
}

// The artifact rows of the store, inside the caller's read transaction.
Result<std::vector<ArtifactRow>> ReadArtifactRows(sqlite::Database& db) {
  std::vector<ArtifactRow> rows;
  SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Statement> select,
                      db.Prepare("SELECT path, sha256, bytes FROM artifacts ORDER BY id"));
  while (true) {
    SS_ASSIGN_OR_RETURN(const bool row, select->Step());
    if (!row) break;
    rows.push_back(ArtifactRow{select->Text(0), select->Text(1), select->Int(2)});
  }
  return rows;
}

// Copies into `snapshot_dir` the artifacts of `rows` it does not hold yet
// (`present`: the paths known to be whole there, updated). An artifact that
// points outside the store, cannot be read or does not match its sha256 is
// added to `dropped` with a warning in `stats`; a failed write is an error.
Status CopyArtifacts(const std::string& store_dir, const std::string& snapshot_dir, const SnapshotOptions& options,
                     const std::vector<ArtifactRow>& rows, std::set<std::string>& present,
                     std::vector<std::string>& dropped, SnapshotStats& stats) {
  std::error_code ec;
  for (const ArtifactRow& row : rows) {
    if (!SafeArtifactPath(row.path)) {
      dropped.push_back(row.path);
      stats.warnings.push_back("artifact path '" + row.path + "' points outside the store; left out");
      continue;
    }
    if (present.count(row.path) != 0) continue;
    const std::string target = snapshot_dir + "/" + row.path;
    // Names carry the content hash: a file of the recorded size is the one.
    if (fs::is_regular_file(target, ec) && static_cast<int64_t>(fs::file_size(target, ec)) == row.bytes && !ec) {
      present.insert(row.path);
      continue;
    }
    Result<std::string> bytes = ReadWholeFile(store_dir + "/" + row.path);
    if (!bytes.ok()) {
      dropped.push_back(row.path);
      stats.warnings.push_back("artifact " + row.path + " left out: " + bytes.status().message());
      continue;
    }
    if (Sha256Hex(*bytes) != row.sha256) {
      dropped.push_back(row.path);
      stats.warnings.push_back("artifact " + row.path + " left out: its contents do not match the recorded sha256");
      continue;
    }
    SS_RETURN_IF_ERROR(options.artifact_writer(target, *bytes));
    present.insert(row.path);
    ++stats.artifacts_copied;
    stats.artifact_bytes_copied += static_cast<int64_t>(bytes->size());
  }
  return Status::Ok();
}

// Renames the finished database copy `temp` to the snapshot's store.db and
// syncs the folder; removes `temp` when the rename fails.
Status InstallDatabase(const std::string& temp, const std::string& snapshot_dir) {
  std::error_code ec;
  // A -wal, -shm or -journal file beside the old database (an earlier copy in
  // WAL mode, opened by a reader) would be read with the new one: gone first.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(DatabasePath(snapshot_dir) + suffix, ec);
  if (std::rename(temp.c_str(), DatabasePath(snapshot_dir).c_str()) != 0) {
    const int error = errno;
    fs::remove(temp, ec);
    return Status::IoError("renaming " + temp + " to store.db: " + std::strerror(error));
  }
  return SyncPath(snapshot_dir, true);
}

}  // namespace

SnapshotWriter::SnapshotWriter(std::string store_dir, std::string snapshot_dir, SnapshotOptions options)
    : store_dir_(std::move(store_dir)), snapshot_dir_(std::move(snapshot_dir)), options_(std::move(options)) {
  if (!options_.artifact_writer) options_.artifact_writer = [](const std::string& path, std::string_view bytes) {
      return WriteFileAtomically(path, bytes);
    };
}

Result<SnapshotStats> SnapshotWriter::Write(SnapshotInfo info) {
  const Clock::time_point start = Clock::now();
  SnapshotStats stats;
  const std::string context = "snapshot of " + store_dir_ + " to " + snapshot_dir_;
  std::error_code ec;
  fs::create_directories(fs::path(snapshot_dir_) / RunStore::kArtifactsDir, ec);
  if (ec) return Status::IoError(context + ": cannot create " + snapshot_dir_ + ": " + ec.message());
  RemoveStaleFiles(snapshot_dir_);

  SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> source, OpenReadOnly(store_dir_));
  sqlite::Database* db = source.get();
  // One read transaction: the artifact list and the pages copied below are
  // the same state of the store. WAL: the writer goes on meanwhile.
  SS_RETURN_IF_ERROR(db->Exec("BEGIN"));
  Result<std::vector<ArtifactRow>> rows = ReadArtifactRows(*db);
  if (!rows.ok()) return rows.status().WithContext(context);
  std::vector<std::string> dropped;
  Status copied_artifacts = CopyArtifacts(store_dir_, snapshot_dir_, options_, *rows, present_, dropped, stats);
  if (!copied_artifacts.ok()) return copied_artifacts.WithContext(context + ": copying artifacts");
  stats.artifacts = static_cast<int64_t>(rows->size() - dropped.size());

  info.taken_time = NowSeconds();
  const fs::path absolute = fs::absolute(store_dir_, ec);
  info.source_dir = ec ? store_dir_ : absolute.string();
  if (info.host.empty()) info.host = HostName();
  const std::string temp = snapshot_dir_ + "/" + kTempPrefix + std::to_string(getpid()) + ".tmp";
  Status copied = CopyDatabase(*db, temp, dropped, info);
  (void)db->Exec("COMMIT");
  if (!copied.ok()) {
    fs::remove(temp, ec);
    fs::remove(temp + "-journal", ec);
    return copied.WithContext(context);
  }
  stats.database_bytes = static_cast<int64_t>(fs::file_size(temp, ec));
  SS_RETURN_IF_ERROR(InstallDatabase(temp, snapshot_dir_).WithContext(context));
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return stats;
}

Status CheckSnapshotFolder(const std::string& store_dir, const std::string& snapshot_dir) {
  if (snapshot_dir.empty()) return Status::InvalidArgument("--snapshot needs a folder");
  std::error_code ec;
  const fs::path store = fs::weakly_canonical(fs::absolute(store_dir, ec), ec);
  const fs::path snapshot = fs::weakly_canonical(fs::absolute(snapshot_dir, ec), ec);
  if (!ec && store == snapshot) {
    return Status::InvalidArgument("--snapshot " + snapshot_dir +
                                   " is the store itself; give another folder (on another disk or node)");
  }
  fs::create_directories(snapshot_dir, ec);
  if (ec) return Status::IoError("--snapshot " + snapshot_dir + ": cannot create the folder: " + ec.message());
  const std::string probe = snapshot_dir + "/" + kTempPrefix + "probe-" + std::to_string(getpid());
  Status written = WriteFileAtomically(probe, "probe");
  fs::remove(probe, ec);
  if (!written.ok()) return Status::IoError("--snapshot " + snapshot_dir + ": cannot write there: " + written.message());
  return Status::Ok();
}

Result<std::optional<SnapshotInfo>> ReadSnapshotInfo(const std::string& store_dir) {
  SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db, OpenReadOnly(store_dir));
  SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Statement> exists,
                      db->Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'snapshot_info'"));
  SS_ASSIGN_OR_RETURN(bool row, exists->Step());
  if (!row || exists->Int(0) == 0) return std::optional<SnapshotInfo>();
  Result<std::unique_ptr<sqlite::Statement>> select =
      db->Prepare("SELECT taken_time, source_dir, host, experiment, sweep_start_time, snapshot_every, sweep_ended "
                  "FROM snapshot_info");
  if (!select.ok()) {
    return Status::Corrupt("snapshot " + store_dir + ": its snapshot_info is damaged (" + select.status().message() + ")");
  }
  SS_ASSIGN_OR_RETURN(row, (*select)->Step());
  if (!row) return Status::Corrupt("snapshot " + store_dir + ": its snapshot_info is empty");
  sqlite::Statement& s = **select;
  SnapshotInfo info;
  info.taken_time = s.Real(0);
  info.source_dir = s.Text(1);
  info.host = s.Text(2);
  info.experiment = s.Text(3);
  info.sweep_start_time = s.Real(4);
  info.snapshot_every = s.Real(5);
  info.sweep_ended = s.Int(6) != 0;
  return std::optional<SnapshotInfo>(std::move(info));
}

Status ClearSnapshotInfo(const std::string& store_dir) {
  SS_ASSIGN_OR_RETURN(std::optional<SnapshotInfo> info, ReadSnapshotInfo(store_dir));
  if (!info) return Status::Ok();
  SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db, sqlite::Database::Open(DatabasePath(store_dir), false, 5000));
  return db->Exec("DROP TABLE IF EXISTS snapshot_info");
}

Result<std::optional<SnapshotProgress>> ReadSnapshotProgress(const std::string& store_dir,
                                                             const std::string& experiment) {
  SS_ASSIGN_OR_RETURN(std::optional<SnapshotInfo> info, ReadSnapshotInfo(store_dir));
  if (!info) return std::optional<SnapshotProgress>();
  SnapshotProgress progress;
  progress.info = *info;
  progress.experiment = experiment.empty() ? info->experiment : experiment;
  SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db, OpenReadOnly(store_dir));
  SS_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Statement> counts,
                      db->Prepare("SELECT r.status, count(*), "
                                  "sum(CASE WHEN r.status = 'FINISHED' AND r.end_time >= ?2 THEN 1 ELSE 0 END) "
                                  "FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                                  "WHERE e.name = ?1 GROUP BY r.status"));
  counts->Bind(1, progress.experiment).Bind(2, info->sweep_start_time);
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, counts->Step());
    if (!row) break;
    const std::string status = counts->Text(0);
    const int64_t n = counts->Int(1);
    if (status == "QUEUED") progress.queued = n;
    else if (status == "RUNNING") progress.running = n;
    else if (status == "FINISHED") progress.finished = n;
    else if (status == "FAILED") progress.failed = n;
    else if (status == "KILLED") progress.killed = n;
    progress.finished_since_start += counts->Int(2);
  }
  const double elapsed = info->taken_time - info->sweep_start_time;
  if (info->sweep_start_time > 0 && elapsed > 0 && progress.finished_since_start > 0) {
    progress.jobs_per_hour = progress.finished_since_start * 3600.0 / elapsed;
    progress.seconds_left = (progress.queued + progress.running + progress.killed) * 3600.0 / progress.jobs_per_hour;
  }
  return std::optional<SnapshotProgress>(std::move(progress));
}

std::string SnapshotProgressLine(const SnapshotProgress& progress, double now) {
  std::string line = "snapshot taken " + FormatUtc(progress.info.taken_time) + " (" +
                     FormatSpan(std::max(0.0, now - progress.info.taken_time)) + " ago) of experiment " +
                     progress.experiment + (progress.info.sweep_ended ? " (sweep ended)" : " (sweep running)") + ": " +
                     std::to_string(progress.queued) + " queued, " + std::to_string(progress.running) + " running, " +
                     std::to_string(progress.finished) + " finished, " + std::to_string(progress.failed) + " failed";
  if (progress.killed > 0) line += ", " + std::to_string(progress.killed) + " killed";
  if (progress.jobs_per_hour > 0) {
    char rate[32];
    std::snprintf(rate, sizeof(rate), progress.jobs_per_hour >= 100 ? "%.0f" : "%.3g", progress.jobs_per_hour);
    line += "; " + std::string(rate) + " jobs/h";
    if (progress.seconds_left >= 0 && !progress.info.sweep_ended) line += ", about " + FormatSpan(progress.seconds_left) + " left";
  }
  return line;
}

}  // namespace stylesweep
