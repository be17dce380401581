#include "store/schema.h"

#include <string>
#include <vector>

namespace stylesweep {
namespace {

// kMigrations[i] takes the schema from version i to version i + 1. Append
// only: a released migration never changes.
const std::vector<const char*> kMigrations = {
    // Version 1: MLflow's model (experiments, runs, params, metrics, latest
    // metrics, artifacts) plus what sweeps need (config hash, attempts, rank,
    // timings). Metric keys are interned to keep the history table small.
    R"sql(
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  sweep_text TEXT NOT NULL,
  sweep_hash TEXT NOT NULL,
  code_version TEXT NOT NULL,
  created_time REAL NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  config_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
  attempts INTEGER NOT NULL DEFAULT 0,
  host TEXT NOT NULL DEFAULT '',
  rank INTEGER NOT NULL DEFAULT -1,
  device TEXT NOT NULL DEFAULT '',
  queued_time REAL NOT NULL,
  start_time REAL,
  end_time REAL,
  error_message TEXT NOT NULL DEFAULT '',
  UNIQUE (experiment_id, config_hash)
);
CREATE INDEX runs_by_config_hash ON runs(config_hash);
CREATE INDEX runs_by_status ON runs(experiment_id, status);
CREATE TABLE params (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('number', 'string', 'list')),
  num_value REAL,
  text_value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE param_keys (
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY (key, type)
) WITHOUT ROWID;
CREATE TABLE metric_keys (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE
);
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key_id INTEGER NOT NULL REFERENCES metric_keys(id),
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, key_id, step)
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key_id INTEGER NOT NULL REFERENCES metric_keys(id),
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;
CREATE TABLE timings (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  phase TEXT NOT NULL,
  seconds REAL NOT NULL,
  PRIMARY KEY (run_id, phase)
) WITHOUT ROWID;
CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  kind TEXT NOT NULL CHECK (kind IN ('final', 'snapshot')),
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  created_time REAL NOT NULL,
  UNIQUE (run_id, kind, step)
);
)sql",
};

std::string NewerSchemaMessage(const sqlite::Database& db, int version) {
  return "store " + db.path() + " has schema version " + std::to_string(version) +
         "; this stylesweep knows up to " + std::to_string(LatestSchemaVersion()) + "; upgrade stylesweep";
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

Result<int> ReadSchemaVersion(sqlite::Database* db) {
  SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare("PRAGMA user_version"));
  SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Status::Corrupt(db->path() + ": no schema version");
  return static_cast<int>(stmt->Int(0));
}

Status MigrateSchema(sqlite::Database* db) {
  SS_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  if (version > LatestSchemaVersion()) return Status::Corrupt(NewerSchemaMessage(*db, version));
  if (version == 0) {
    SS_ASSIGN_OR_RETURN(auto tables, db->Prepare("SELECT count(*) FROM sqlite_master"));
    SS_ASSIGN_OR_RETURN(bool row, tables->Step());
    if (row && tables->Int(0) > 0) {
      return Status::Corrupt(db->path() + " is a SQLite database but not a stylesweep store (it has tables and "
                             "no store schema version); point --store at another folder");
    }
  }
  while (version < LatestSchemaVersion()) {
    SS_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(db));
    // Re-read inside the write lock: another process may have migrated first.
    SS_ASSIGN_OR_RETURN(version, ReadSchemaVersion(db));
    if (version > LatestSchemaVersion()) return Status::Corrupt(NewerSchemaMessage(*db, version));
    if (version == LatestSchemaVersion()) break;
    SS_RETURN_IF_ERROR(db->Exec(kMigrations[static_cast<size_t>(version)]).WithContext(
        "migrating " + db->path() + " to schema version " + std::to_string(version + 1)));
    SS_RETURN_IF_ERROR(db->Exec("PRAGMA user_version = " + std::to_string(version + 1)));
    SS_RETURN_IF_ERROR(transaction->Commit());
    ++version;
  }
  return Status::Ok();
}

Status CheckSchemaReadOnly(sqlite::Database* db) {
  SS_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  if (version > LatestSchemaVersion()) return Status::Corrupt(NewerSchemaMessage(*db, version));
  if (version < LatestSchemaVersion()) {
    return Status::Corrupt("store " + db->path() + " has schema version " + std::to_string(version) +
                           "; open it once for writing (any sweep) to migrate it to version " +
                           std::to_string(LatestSchemaVersion()));
  }
  return Status::Ok();
}

}  // namespace stylesweep
