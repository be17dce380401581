#include "store/run_store.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "store/query.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace stylesweep {
namespace fs = std::filesystem;
using sqlite::Statement;
using sqlite::Transaction;

namespace {


ParamValue ParamFromJson(const nlohmann::json& json) {
  if (json.is_number()) return ParamValue::Number(json.get<double>());
  if (json.is_string()) return ParamValue::String(json.get<std::string>());
  if (json.is_array()) {
    std::vector<ParamValue> items;
    for (const auto& item : json) items.push_back(ParamFromJson(item));
    return ParamValue::List(std::move(items));
  }
  return ParamValue::String(json.dump());
}

Result<ParamValue> ParamFromRow(const std::string& key, const std::string& type, const Statement& row,
                                int num_column, int text_column) {
  if (type == "number") return ParamValue::Number(row.Real(num_column));
  if (type == "string") return ParamValue::String(row.Text(text_column));
  try {
    return ParamFromJson(nlohmann::json::parse(row.Text(text_column)));
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt("param '" + key + "' holds a malformed list: " + e.what());
  }
}

Result<RunStatus> StatusFromText(const std::string& text) {
  auto status = ParseRunStatus(text);
  if (!status.ok()) return Status::Corrupt("run with unknown status '" + text + "'");
  return *status;
}

bool SafeExtension(const std::string& extension) {
  return !extension.empty() && extension.size() <= 8 &&
         std::all_of(extension.begin(), extension.end(), [](unsigned char c) { return std::isalnum(c); });
}

// Columns of a run row, in the order RunColumns() lists them.
constexpr const char* kRunColumns =
    "r.id, r.experiment_id, e.name, r.config_hash, r.status, r.attempts, r.host, r.rank, r.device, "
    "r.queued_time, r.start_time, r.end_time, r.error_message";

Result<RunRecord> RunFromRow(const Statement& row) {
  RunRecord run;
  run.id = row.Int(0);
  run.experiment_id = row.Int(1);
  run.experiment = row.Text(2);
  run.config_hash = row.Text(3);
  SS_ASSIGN_OR_RETURN(run.status, StatusFromText(row.Text(4)));
  run.attempts = static_cast<int>(row.Int(5));
  run.host = row.Text(6);
  run.rank = static_cast<int>(row.Int(7));
  run.device = row.Text(8);
  run.queued_time = row.Real(9);
  run.start_time = row.OptionalReal(10);
  run.end_time = row.OptionalReal(11);
  run.error_message = row.Text(12);
  return run;
}

// An artifact file written ahead of its row, with what to do if the row is
// not committed.
struct StagedArtifact {
  Artifact artifact;
  std::string absolute_path;
  bool created = false;  // this call wrote the file (remove it on failure)
};

}  // namespace

class RunStore::Impl {
 public:
  std::unique_ptr<sqlite::Database> db;
  StoreOptions options;
  std::string dir;
  std::map<std::string, int64_t> metric_key_ids;  // committed metric_keys rows

  Status RequireWritable(const char* what) const {
    if (options.mode == OpenMode::kReadWrite) return Status::Ok();
    return Status::InvalidArgument(std::string(what) + ": store " + dir + " was opened read-only");
  }

  // Runs `body` in one BEGIN IMMEDIATE transaction; commits if it succeeds.
  template <typename Body>
  Status WriteTransaction(const std::string& what, Body body) {
    auto transaction = Transaction::Begin(db.get());
    if (!transaction.ok()) return transaction.status().WithContext(what);
    const size_t known_keys = metric_key_ids.size();
    Status status = body();
    if (status.ok()) status = (*transaction)->Commit();
    if (!status.ok()) {
      // Metric key ids interned in a rolled-back transaction are gone.
      if (metric_key_ids.size() != known_keys) metric_key_ids.clear();
      return status.WithContext(what);
    }
    return Status::Ok();
  }

  // Inserts a QUEUED run with its params inside the caller's transaction.
  // kNotFound for no such experiment; the UNIQUE (experiment, hash) error
  // from SQLite when it exists.
  Result<int64_t> InsertRun(int64_t experiment_id, const std::string& config_hash, const Params& params) {
    SS_ASSIGN_OR_RETURN(Statement * experiment, db->Cached("SELECT 1 FROM experiments WHERE id = ?1"));
    experiment->Bind(1, experiment_id);
    SS_ASSIGN_OR_RETURN(bool experiment_exists, experiment->Step());
    experiment->Reset();
    if (!experiment_exists) return Status::NotFound("no experiment with id " + std::to_string(experiment_id));
    SS_ASSIGN_OR_RETURN(Statement * insert,
                        db->Cached("INSERT INTO runs(experiment_id, config_hash, status, queued_time) "
                                   "VALUES (?1, ?2, 'QUEUED', ?3)"));
    insert->Bind(1, experiment_id).Bind(2, config_hash).Bind(3, EpochSeconds());
    SS_RETURN_IF_ERROR(insert->Run());
    const int64_t id = db->LastInsertId();
    SS_ASSIGN_OR_RETURN(Statement * param, db->Cached("INSERT INTO params(run_id, key, type, num_value, text_value) "
                                                      "VALUES (?1, ?2, ?3, ?4, ?5)"));
    SS_ASSIGN_OR_RETURN(Statement * key_type,
                        db->Cached("INSERT OR IGNORE INTO param_keys(key, type) VALUES (?1, ?2)"));
    for (const auto& [key, value] : params) {
      if (key.empty()) return Status::InvalidArgument("a param with an empty key");
      const std::string type = ParamTypeName(value.type);
      param->Bind(1, id).Bind(2, key).Bind(3, type).Bind(5, value.ToText());
      if (value.type == ParamValue::Type::kNumber) param->Bind(4, value.number);
      SS_RETURN_IF_ERROR(param->Run());
      key_type->Bind(1, key).Bind(2, type);
      SS_RETURN_IF_ERROR(key_type->Run());
    }
    return id;
  }

  Result<RunStatus> CurrentStatus(int64_t run_id) {
    SS_ASSIGN_OR_RETURN(Statement * stmt, db->Cached("SELECT status FROM runs WHERE id = ?1"));
    stmt->Bind(1, run_id);
    SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) return Status::NotFound("no run with id " + std::to_string(run_id) + " in store " + dir);
    const std::string text = stmt->Text(0);
    stmt->Reset();
    return StatusFromText(text);
  }

  Result<int64_t> MetricKeyId(const std::string& key) {
    auto it = metric_key_ids.find(key);
    if (it != metric_key_ids.end()) return it->second;
    SS_ASSIGN_OR_RETURN(Statement * insert,
                        db->Cached("INSERT INTO metric_keys(key) VALUES (?1) ON CONFLICT(key) DO NOTHING"));
    insert->Bind(1, key);
    SS_RETURN_IF_ERROR(insert->Run());
    SS_ASSIGN_OR_RETURN(Statement * select, db->Cached("SELECT id FROM metric_keys WHERE key = ?1"));
    select->Bind(1, key);
    SS_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) return Status::Internal("metric key '" + key + "' vanished after insert");
    const int64_t id = select->Int(0);
    select->Reset();
    metric_key_ids[key] = id;
    return id;
  }

  // Inside a transaction: history rows plus the latest-value table.
  Status WriteMetrics(int64_t run_id, const std::vector<MetricPoint>& points) {
    if (points.empty()) return Status::Ok();
    SS_ASSIGN_OR_RETURN(Statement * insert,
                        db->Cached("INSERT OR REPLACE INTO metrics(run_id, key_id, step, value, wall_time) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5)"));
    std::map<int64_t, const MetricPoint*> latest;  // key id -> point with the highest step
    const std::string* last_key = nullptr;
    int64_t key_id = 0;
    for (const MetricPoint& point : points) {
      if (point.key.empty()) return Status::InvalidArgument("metric point with an empty key");
      if (point.step < 0) {
        return Status::InvalidArgument("metric '" + point.key + "' has negative step " + std::to_string(point.step));
      }
      if (last_key == nullptr || *last_key != point.key) {
        SS_ASSIGN_OR_RETURN(key_id, MetricKeyId(point.key));
        last_key = &point.key;
      }
      insert->Bind(1, run_id).Bind(2, key_id).Bind(3, point.step).Bind(4, point.value).Bind(5, point.wall_time);
      SS_RETURN_IF_ERROR(insert->Run());
      const MetricPoint*& best = latest[key_id];
      if (best == nullptr || point.step >= best->step) best = &point;
    }
    SS_ASSIGN_OR_RETURN(Statement * upsert,
                        db->Cached("INSERT INTO latest_metrics(run_id, key_id, step, value, wall_time) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(run_id, key_id) DO UPDATE SET "
                                   "step = excluded.step, value = excluded.value, wall_time = excluded.wall_time "
                                   "WHERE excluded.step >= latest_metrics.step"));
    for (const auto& [id, point] : latest) {
      upsert->Bind(1, run_id).Bind(2, id).Bind(3, point->step).Bind(4, point->value).Bind(5, point->wall_time);
      SS_RETURN_IF_ERROR(upsert->Run());
    }
    return Status::Ok();
  }

  Status WriteTimings(int64_t run_id, const std::vector<PhaseTiming>& timings) {
    SS_ASSIGN_OR_RETURN(Statement * insert, db->Cached("INSERT OR REPLACE INTO timings(run_id, phase, seconds) "
                                                       "VALUES (?1, ?2, ?3)"));
    for (const PhaseTiming& timing : timings) {
      if (timing.phase.empty()) return Status::InvalidArgument("timing with an empty phase name");
      insert->Bind(1, run_id).Bind(2, timing.phase).Bind(3, timing.seconds);
      SS_RETURN_IF_ERROR(insert->Run());
    }
    return Status::Ok();
  }

  // Writes the artifact's file (outside any transaction) and fills its row.
  Result<StagedArtifact> StageArtifact(int64_t run_id, const ArtifactInput& input) {
    if (!SafeExtension(input.extension)) {
      return Status::InvalidArgument("artifact extension '" + input.extension + "' must be 1-8 letters or digits");
    }
    if (input.step < 0) return Status::InvalidArgument("artifact step must be >= 0");
    std::string bytes;
    if (!input.source_path.empty()) {
      SS_ASSIGN_OR_RETURN(bytes, ReadWholeFile(input.source_path));
    }
    const std::string& contents = input.source_path.empty() ? input.bytes : bytes;
    StagedArtifact staged;
    Artifact& artifact = staged.artifact;
    artifact.run_id = run_id;
    artifact.kind = input.kind;
    artifact.step = input.step;
    artifact.sha256 = Sha256Hex(contents);
    artifact.width = input.width;
    artifact.height = input.height;
    artifact.bytes = static_cast<int64_t>(contents.size());
    artifact.path = std::string(RunStore::kArtifactsDir) + "/" + std::to_string(run_id) + "/" +
                    ArtifactKindName(input.kind) + "-" + std::to_string(input.step) + "-" +
                    artifact.sha256.substr(0, 8) + "." + input.extension;
    staged.absolute_path = dir + "/" + artifact.path;
    std::error_code ec;
    // The name carries the content hash: an existing file already holds these bytes.
    if (fs::exists(staged.absolute_path, ec)) return staged;
    const ArtifactWriter& writer = options.artifact_writer;
    Status written = writer ? writer(staged.absolute_path, contents) : WriteFileAtomically(staged.absolute_path, contents);
    if (!written.ok()) {
      return written.WithContext("writing artifact for run " + std::to_string(run_id) + " (nothing recorded)");
    }
    staged.created = true;
    return staged;
  }

  // Inside a transaction: records the row; returns the path of a replaced
  // file that is no longer referenced (to remove after commit), if any.
  Result<std::string> RecordArtifact(Artifact* artifact) {
    std::string replaced;
    SS_ASSIGN_OR_RETURN(Statement * old, db->Cached("SELECT path FROM artifacts WHERE run_id = ?1 AND kind = ?2 "
                                                    "AND step = ?3"));
    old->Bind(1, artifact->run_id).Bind(2, std::string(ArtifactKindName(artifact->kind))).Bind(3, artifact->step);
    SS_ASSIGN_OR_RETURN(bool row, old->Step());
    if (row && old->Text(0) != artifact->path) replaced = old->Text(0);
    old->Reset();
    SS_ASSIGN_OR_RETURN(Statement * insert,
                        db->Cached("INSERT OR REPLACE INTO artifacts(run_id, kind, step, path, sha256, width, height, "
                                   "bytes, created_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    insert->Bind(1, artifact->run_id)
        .Bind(2, std::string(ArtifactKindName(artifact->kind)))
        .Bind(3, artifact->step)
        .Bind(4, artifact->path)
        .Bind(5, artifact->sha256)
        .Bind(6, artifact->width)
        .Bind(7, artifact->height)
        .Bind(8, artifact->bytes)
        .Bind(9, EpochSeconds());
    SS_RETURN_IF_ERROR(insert->Run());
    artifact->id = db->LastInsertId();
    return replaced;
  }

  void RemoveFiles(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
      std::error_code ec;
      fs::remove(path, ec);  // best effort: an orphan file costs disk, never correctness
    }
  }

  Status CheckCanFinish(int64_t run_id, RunStatus to) {
    if (!IsTerminal(to)) {
      return Status::InvalidArgument(std::string("a run can only finish as FINISHED, FAILED or KILLED, not ") +
                                     RunStatusName(to));
    }
    SS_ASSIGN_OR_RETURN(RunStatus current, CurrentStatus(run_id));
    if (current == RunStatus::kRunning) return Status::Ok();
    if (current == RunStatus::kQueued && to != RunStatus::kFinished) return Status::Ok();
    return Status::InvalidArgument("run " + std::to_string(run_id) + " is " + RunStatusName(current) +
                                   "; only a RUNNING run can become " + RunStatusName(to));
  }

  Status SetFinalStatus(int64_t run_id, RunStatus to, const std::string& error_message, double end_time) {
    SS_ASSIGN_OR_RETURN(Statement * update, db->Cached("UPDATE runs SET status = ?1, error_message = ?2, "
                                                       "end_time = ?3 WHERE id = ?4"));
    update->Bind(1, std::string(RunStatusName(to))).Bind(2, error_message).Bind(3, end_time).Bind(4, run_id);
    return update->Run();
  }

  Status LoadParams(RunRecord* run) {
    SS_ASSIGN_OR_RETURN(Statement * stmt,
                        db->Cached("SELECT key, type, num_value, text_value FROM params WHERE run_id = ?1"));
    stmt->Bind(1, run->id);
    while (true) {
      SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      const std::string key = stmt->Text(0);
      SS_ASSIGN_OR_RETURN(run->params[key], ParamFromRow(key, stmt->Text(1), *stmt, 2, 3));
    }
    stmt->Reset();
    return Status::Ok();
  }

  Status LoadLatestMetrics(RunRecord* run) {
    SS_ASSIGN_OR_RETURN(Statement * stmt,
                        db->Cached("SELECT k.key, l.step, l.value, l.wall_time FROM latest_metrics l "
                                   "JOIN metric_keys k ON k.id = l.key_id WHERE l.run_id = ?1"));
    stmt->Bind(1, run->id);
    while (true) {
      SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      MetricPoint point{stmt->Text(0), stmt->Int(1), stmt->Real(2), stmt->Real(3)};
      run->latest_metrics[point.key] = point;
    }
    stmt->Reset();
    return Status::Ok();
  }

  Result<query::QuerySchema> LoadQuerySchema() {
    query::QuerySchema schema;
    SS_ASSIGN_OR_RETURN(auto params, db->Prepare("SELECT key, type FROM param_keys"));
    while (true) {
      SS_ASSIGN_OR_RETURN(bool row, params->Step());
      if (!row) break;
      auto& info = schema.params[params->Text(0)];
      if (params->Text(1) == "number") {
        info.has_numbers = true;
      } else {
        info.has_text = true;
      }
    }
    SS_ASSIGN_OR_RETURN(auto metrics, db->Prepare("SELECT key, id FROM metric_keys"));
    while (true) {
      SS_ASSIGN_OR_RETURN(bool row, metrics->Step());
      if (!row) break;
      schema.metrics[metrics->Text(0)] = metrics->Int(1);
    }
    return schema;
  }

  Result<std::vector<std::string>> Keys(const std::string& sql, const std::string& experiment) {
    SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(sql));
    stmt->Bind(1, experiment);
    std::vector<std::string> keys;
    while (true) {
      SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
      if (!row) break;
      keys.push_back(stmt->Text(0));
    }
    return keys;
  }
};

RunStore::RunStore(std::string dir, std::unique_ptr<Impl> impl) : dir_(std::move(dir)), impl_(std::move(impl)) {}
RunStore::~RunStore() = default;

Result<std::unique_ptr<RunStore>> RunStore::Open(const std::string& dir, const StoreOptions& options) {
  const std::string db_path = dir + "/" + kDatabaseFile;
  const bool read_only = options.mode == OpenMode::kReadOnly;
  std::error_code ec;
  if (read_only) {
    if (!fs::exists(db_path, ec)) {
      return Status::NotFound("no experiment store at " + dir + " (" + db_path +
                              " does not exist); run a sweep first, or pass --store DIR or set STYLESWEEP_STORE");
    }
  } else {
    fs::create_directories(fs::path(dir) / kArtifactsDir, ec);
    if (ec) return Status::IoError("creating store folder " + dir + ": " + ec.message());
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->dir = dir;
  SS_ASSIGN_OR_RETURN(impl->db, sqlite::Database::Open(db_path, read_only, options.busy_timeout_ms));
  sqlite::Database* db = impl->db.get();
  if (read_only) {
    SS_RETURN_IF_ERROR(CheckSchemaReadOnly(db));
  } else {
    SS_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL"));
    SS_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = NORMAL"));
    if (options.max_page_count > 0) {
      SS_RETURN_IF_ERROR(db->Exec("PRAGMA max_page_count = " + std::to_string(options.max_page_count)));
    }
    SS_RETURN_IF_ERROR(MigrateSchema(db));
  }
  return std::unique_ptr<RunStore>(new RunStore(dir, std::move(impl)));
}

std::string RunStore::ArtifactPath(const Artifact& artifact) const { return dir_ + "/" + artifact.path; }

Result<int64_t> RunStore::CreateOrGetExperiment(const std::string& name, const std::string& sweep_text,
                                                const std::string& sweep_hash, const std::string& code_version) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("creating an experiment"));
  if (name.empty()) return Status::InvalidArgument("an experiment needs a name");
  int64_t id = 0;
  SS_RETURN_IF_ERROR(impl_->WriteTransaction("creating experiment '" + name + "'", [&]() -> Status {
    SS_ASSIGN_OR_RETURN(Statement * insert,
                        impl_->db->Cached("INSERT INTO experiments(name, sweep_text, sweep_hash, code_version, "
                                          "created_time) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING"));
    insert->Bind(1, name).Bind(2, sweep_text).Bind(3, sweep_hash).Bind(4, code_version).Bind(5, EpochSeconds());
    SS_RETURN_IF_ERROR(insert->Run());
    SS_ASSIGN_OR_RETURN(Statement * select, impl_->db->Cached("SELECT id FROM experiments WHERE name = ?1"));
    select->Bind(1, name);
    SS_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) return Status::Internal("experiment '" + name + "' vanished after insert");
    id = select->Int(0);
    select->Reset();
    return Status::Ok();
  }));
  return id;
}

Result<int64_t> RunStore::EnsureRun(int64_t experiment_id, const std::string& config_hash, const Params& params) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("creating a run"));
  if (config_hash.empty()) return Status::InvalidArgument("a run needs a config hash");
  int64_t id = 0;
  SS_RETURN_IF_ERROR(impl_->WriteTransaction("recording run " + config_hash, [&]() -> Status {
    sqlite::Database* db = impl_->db.get();
    SS_ASSIGN_OR_RETURN(Statement * find,
                        db->Cached("SELECT id FROM runs WHERE experiment_id = ?1 AND config_hash = ?2"));
    find->Bind(1, experiment_id).Bind(2, config_hash);
    SS_ASSIGN_OR_RETURN(bool exists, find->Step());
    if (exists) {
      id = find->Int(0);
      find->Reset();
      RunRecord existing;
      existing.id = id;
      SS_RETURN_IF_ERROR(impl_->LoadParams(&existing));
      std::set<std::string> keys;
      for (const auto& entry : existing.params) keys.insert(entry.first);
      for (const auto& entry : params) keys.insert(entry.first);
      for (const std::string& key : keys) {
        auto a = existing.params.find(key);
        auto b = params.find(key);
        if (a == existing.params.end() || b == params.end() || a->second != b->second) {
          return Status::InvalidArgument(
              "run " + std::to_string(id) + " (config " + config_hash + ") already has different params: '" + key +
              "' is " + (a == existing.params.end() ? "absent" : a->second.ToText()) + " in the store and " +
              (b == params.end() ? "absent" : b->second.ToText()) + " now; params are immutable");
        }
      }
      return Status::Ok();
    }
    find->Reset();
    SS_ASSIGN_OR_RETURN(id, impl_->InsertRun(experiment_id, config_hash, params));
    return Status::Ok();
  }));
  return id;
}

Result<std::vector<int64_t>> RunStore::CreateRuns(int64_t experiment_id, const std::vector<std::string>& config_hashes,
                                                  const std::function<Params(std::size_t)>& params_of,
                                                  std::size_t runs_per_transaction) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("creating runs"));
  std::vector<int64_t> ids;
  ids.reserve(config_hashes.size());
  const std::size_t chunk = std::max<std::size_t>(1, runs_per_transaction);
  for (std::size_t begin = 0; begin < config_hashes.size(); begin += chunk) {
    const std::size_t end = std::min(config_hashes.size(), begin + chunk);
    SS_RETURN_IF_ERROR(impl_->WriteTransaction(
        "recording runs " + std::to_string(begin + 1) + "-" + std::to_string(end), [&]() -> Status {
          for (std::size_t i = begin; i < end; ++i) {
            if (config_hashes[i].empty()) return Status::InvalidArgument("a run needs a config hash");
            SS_ASSIGN_OR_RETURN(int64_t id, impl_->InsertRun(experiment_id, config_hashes[i], params_of(i)));
            ids.push_back(id);
          }
          return Status::Ok();
        }));
  }
  return ids;
}

Status RunStore::StartRun(int64_t run_id, const std::string& host, int rank, const std::string& device) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("starting a run"));
  return impl_->WriteTransaction("starting run " + std::to_string(run_id), [&]() -> Status {
    SS_ASSIGN_OR_RETURN(RunStatus current, impl_->CurrentStatus(run_id));
    if (current == RunStatus::kRunning || current == RunStatus::kFinished) {
      return Status::InvalidArgument(std::string("run is already ") + RunStatusName(current));
    }
    SS_ASSIGN_OR_RETURN(Statement * update,
                        impl_->db->Cached("UPDATE runs SET status = 'RUNNING', attempts = attempts + 1, host = ?1, "
                                          "rank = ?2, device = ?3, start_time = ?4, end_time = NULL, "
                                          "error_message = '' WHERE id = ?5"));
    update->Bind(1, host).Bind(2, rank).Bind(3, device).Bind(4, EpochSeconds()).Bind(5, run_id);
    return update->Run();
  });
}

Status RunStore::LogMetrics(int64_t run_id, const std::vector<MetricPoint>& points) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("logging metrics"));
  return impl_->WriteTransaction("logging metrics of run " + std::to_string(run_id), [&]() -> Status {
    SS_RETURN_IF_ERROR(impl_->CurrentStatus(run_id).status());
    return impl_->WriteMetrics(run_id, points);
  });
}

Status RunStore::LogTimings(int64_t run_id, const std::vector<PhaseTiming>& timings) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("logging timings"));
  return impl_->WriteTransaction("logging timings of run " + std::to_string(run_id), [&]() -> Status {
    SS_RETURN_IF_ERROR(impl_->CurrentStatus(run_id).status());
    return impl_->WriteTimings(run_id, timings);
  });
}

Result<Artifact> RunStore::AddArtifact(int64_t run_id, const ArtifactInput& input) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("adding an artifact"));
  SS_RETURN_IF_ERROR(impl_->CurrentStatus(run_id).status());
  SS_ASSIGN_OR_RETURN(StagedArtifact staged, impl_->StageArtifact(run_id, input));
  std::string replaced;
  Status status = impl_->WriteTransaction("recording artifact of run " + std::to_string(run_id), [&]() -> Status {
    SS_ASSIGN_OR_RETURN(replaced, impl_->RecordArtifact(&staged.artifact));
    return Status::Ok();
  });
  if (!status.ok()) {
    if (staged.created) impl_->RemoveFiles({staged.absolute_path});
    return status;
  }
  if (!replaced.empty()) impl_->RemoveFiles({dir_ + "/" + replaced});
  return staged.artifact;
}

Status RunStore::FinishRun(int64_t run_id, RunStatus status, const std::string& error_message) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("finishing a run"));
  return impl_->WriteTransaction("finishing run " + std::to_string(run_id), [&]() -> Status {
    SS_RETURN_IF_ERROR(impl_->CheckCanFinish(run_id, status));
    return impl_->SetFinalStatus(run_id, status, error_message, EpochSeconds());
  });
}

Status RunStore::RecordRunResult(int64_t run_id, const RunResult& result) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("recording a run result"));
  SS_RETURN_IF_ERROR(impl_->CheckCanFinish(run_id, result.status));
  std::vector<StagedArtifact> staged;
  std::vector<std::string> created;
  for (const ArtifactInput& input : result.artifacts) {
    auto artifact = impl_->StageArtifact(run_id, input);
    if (!artifact.ok()) {
      impl_->RemoveFiles(created);
      return artifact.status();
    }
    if (artifact->created) created.push_back(artifact->absolute_path);
    staged.push_back(std::move(artifact).value());
  }
  std::vector<std::string> replaced;
  Status status = impl_->WriteTransaction("recording the result of run " + std::to_string(run_id), [&]() -> Status {
    SS_RETURN_IF_ERROR(impl_->CheckCanFinish(run_id, result.status));
    SS_RETURN_IF_ERROR(impl_->WriteMetrics(run_id, result.metrics));
    SS_RETURN_IF_ERROR(impl_->WriteTimings(run_id, result.timings));
    for (StagedArtifact& artifact : staged) {
      SS_ASSIGN_OR_RETURN(std::string old, impl_->RecordArtifact(&artifact.artifact));
      if (!old.empty()) replaced.push_back(dir_ + "/" + old);
    }
    return impl_->SetFinalStatus(run_id, result.status, result.error_message, result.end_time.value_or(EpochSeconds()));
  });
  if (!status.ok()) {
    impl_->RemoveFiles(created);
    return status;
  }
  impl_->RemoveFiles(replaced);
  return Status::Ok();
}

Result<int64_t> RunStore::RequeueUnfinished(int64_t experiment_id, RunStatus to) {
  SS_RETURN_IF_ERROR(impl_->RequireWritable("requeueing runs"));
  if (to != RunStatus::kQueued && to != RunStatus::kKilled) {
    return Status::InvalidArgument("unfinished runs can go back to QUEUED or KILLED only");
  }
  int64_t changed = 0;
  SS_RETURN_IF_ERROR(impl_->WriteTransaction("requeueing unfinished runs", [&]() -> Status {
    SS_ASSIGN_OR_RETURN(Statement * update,
                        impl_->db->Cached("UPDATE runs SET status = ?1, end_time = ?2, error_message = ?3 "
                                          "WHERE experiment_id = ?4 AND status = 'RUNNING'"));
    update->Bind(1, std::string(RunStatusName(to)));
    if (to == RunStatus::kKilled) {
      update->Bind(2, EpochSeconds()).Bind(3, std::string("interrupted: the sweep stopped while the run was RUNNING"));
    } else {
      update->BindNull(2).Bind(3, std::string(""));
    }
    update->Bind(4, experiment_id);
    SS_RETURN_IF_ERROR(update->Run());
    changed = impl_->db->Changes();
    return Status::Ok();
  }));
  return changed;
}

Result<std::vector<Experiment>> RunStore::ListExperiments() {
  sqlite::Database* db = impl_->db.get();
  SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT id, name, sweep_text, sweep_hash, code_version, created_time "
                                             "FROM experiments ORDER BY id"));
  std::vector<Experiment> experiments;
  std::map<int64_t, size_t> index;
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    Experiment experiment;
    experiment.id = stmt->Int(0);
    experiment.name = stmt->Text(1);
    experiment.sweep_text = stmt->Text(2);
    experiment.sweep_hash = stmt->Text(3);
    experiment.code_version = stmt->Text(4);
    experiment.created_time = stmt->Real(5);
    index[experiment.id] = experiments.size();
    experiments.push_back(std::move(experiment));
  }
  SS_ASSIGN_OR_RETURN(auto counts,
                      db->Prepare("SELECT experiment_id, status, count(*) FROM runs GROUP BY experiment_id, status"));
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, counts->Step());
    if (!row) break;
    auto it = index.find(counts->Int(0));
    if (it == index.end()) continue;
    SS_ASSIGN_OR_RETURN(RunStatus status, StatusFromText(counts->Text(1)));
    experiments[it->second].run_counts[status] = counts->Int(2);
  }
  return experiments;
}

Result<Experiment> RunStore::GetExperiment(const std::string& name) {
  SS_ASSIGN_OR_RETURN(auto experiments, ListExperiments());
  std::vector<std::string> names;
  for (auto& experiment : experiments) {
    if (experiment.name == name) return experiment;
    names.push_back(experiment.name);
  }
  std::string message = "no experiment named '" + name + "' in store " + dir_;
  const std::string closest = query::ClosestMatch(name, names);
  if (!closest.empty()) message += " (did you mean '" + closest + "'?)";
  return Status::NotFound(message);
}

Result<RunRecord> RunStore::GetRun(int64_t run_id) {
  sqlite::Database* db = impl_->db.get();
  SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(std::string("SELECT ") + kRunColumns +
                                             " FROM runs r JOIN experiments e ON e.id = r.experiment_id "
                                             "WHERE r.id = ?1"));
  stmt->Bind(1, run_id);
  SS_ASSIGN_OR_RETURN(bool found, stmt->Step());
  if (!found) return Status::NotFound("no run with id " + std::to_string(run_id) + " in store " + dir_);
  SS_ASSIGN_OR_RETURN(RunRecord run, RunFromRow(*stmt));
  SS_RETURN_IF_ERROR(impl_->LoadParams(&run));
  SS_RETURN_IF_ERROR(impl_->LoadLatestMetrics(&run));
  SS_ASSIGN_OR_RETURN(auto timings, db->Prepare("SELECT phase, seconds FROM timings WHERE run_id = ?1 ORDER BY phase"));
  timings->Bind(1, run_id);
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, timings->Step());
    if (!row) break;
    run.timings.push_back({timings->Text(0), timings->Real(1)});
  }
  SS_ASSIGN_OR_RETURN(auto artifacts, db->Prepare("SELECT id, kind, step, path, sha256, width, height, bytes "
                                                  "FROM artifacts WHERE run_id = ?1 ORDER BY kind, step"));
  artifacts->Bind(1, run_id);
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, artifacts->Step());
    if (!row) break;
    Artifact artifact;
    artifact.id = artifacts->Int(0);
    artifact.run_id = run_id;
    artifact.kind = artifacts->Text(1) == "final" ? ArtifactKind::kFinal : ArtifactKind::kSnapshot;
    artifact.step = artifacts->Int(2);
    artifact.path = artifacts->Text(3);
    artifact.sha256 = artifacts->Text(4);
    artifact.width = static_cast<int>(artifacts->Int(5));
    artifact.height = static_cast<int>(artifacts->Int(6));
    artifact.bytes = artifacts->Int(7);
    run.artifacts.push_back(std::move(artifact));
  }
  return run;
}

Result<int64_t> RunStore::ResolveRunId(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty run id");
  sqlite::Database* db = impl_->db.get();
  if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }) && text.size() < 18) {
    const int64_t id = std::stoll(text);
    SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT 1 FROM runs WHERE id = ?1"));
    stmt->Bind(1, id);
    SS_ASSIGN_OR_RETURN(bool found, stmt->Step());
    if (found) return id;
  }
  if (text.size() < 4 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; })) {
    return Status::NotFound("no run '" + text + "' in store " + dir_ +
                            " (give a run id or at least 4 characters of its config hash)");
  }
  SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT r.id, e.name, r.config_hash FROM runs r JOIN experiments e ON "
                                             "e.id = r.experiment_id WHERE r.config_hash GLOB ?1 ORDER BY r.id LIMIT 6"));
  stmt->Bind(1, text + "*");
  std::vector<std::string> matches;
  int64_t id = 0;
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    id = stmt->Int(0);
    matches.push_back(std::to_string(id) + " (" + stmt->Text(1) + ", " + stmt->Text(2).substr(0, 12) + ")");
  }
  if (matches.empty()) return Status::NotFound("no run with id or config hash prefix '" + text + "' in store " + dir_);
  if (matches.size() > 1) {
    std::string list;
    for (size_t i = 0; i < matches.size() && i < 5; ++i) list += (i ? ", " : "") + matches[i];
    return Status::InvalidArgument("config hash prefix '" + text + "' matches several runs: " + list +
                                   (matches.size() > 5 ? ", ..." : "") + "; give more characters or the run id");
  }
  return id;
}

Result<RunStateIndex> RunStore::ListRunStates(int64_t experiment_id) {
  // The count through the (experiment, status) index, so the index is sized once.
  SS_ASSIGN_OR_RETURN(Statement * count, impl_->db->Cached("SELECT count(*) FROM runs WHERE experiment_id = ?1"));
  count->Bind(1, experiment_id);
  SS_ASSIGN_OR_RETURN(bool counted, count->Step());
  const int64_t runs = counted ? count->Int(0) : 0;
  count->Reset();
  // A scan in row order: walking the (experiment, hash) index instead visits
  // the rows in random order, 15 times slower at a million runs
  // (docs/BENCHMARKS.md, "Dataset-scale sweeps").
  SS_ASSIGN_OR_RETURN(Statement * select,
                      impl_->db->Cached("SELECT id, config_hash, status FROM runs NOT INDEXED WHERE experiment_id = ?1"));
  select->Bind(1, experiment_id);
  RunStateIndex states;
  states.Reserve(static_cast<std::size_t>(runs));
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) break;
    Result<RunStatus> status = StatusFromText(std::string(select->TextView(2)));
    if (!status.ok()) {
      select->Reset();
      return status.status();
    }
    states.Add(select->TextView(1), select->Int(0), *status);
  }
  select->Reset();
  return states;
}

Result<std::vector<RunRecord>> RunStore::ListRuns(const RunQuery& run_query) {
  sqlite::Database* db = impl_->db.get();
  if (run_query.limit < 0) return Status::InvalidArgument("--limit must be >= 0");
  if (!run_query.experiment.empty()) {
    SS_RETURN_IF_ERROR(GetExperiment(run_query.experiment).status());
  }
  SS_ASSIGN_OR_RETURN(query::QuerySchema schema, impl_->LoadQuerySchema());
  SS_ASSIGN_OR_RETURN(query::CompiledQuery compiled, query::Compile(run_query.where, run_query.sort, schema));
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs r JOIN experiments e ON e.id = r.experiment_id" +
                    compiled.joins + " WHERE (" + compiled.where + ")";
  std::vector<sqlite::Value> bindings = compiled.bindings;
  if (!run_query.experiment.empty()) {
    bindings.emplace_back(run_query.experiment);
    sql += " AND e.name = ?" + std::to_string(bindings.size());
  }
  sql += " ORDER BY " + compiled.order_by;
  if (run_query.limit > 0) {
    bindings.emplace_back(run_query.limit);
    sql += " LIMIT ?" + std::to_string(bindings.size());
  }
  SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare(sql));
  for (size_t i = 0; i < bindings.size(); ++i) stmt->Bind(static_cast<int>(i + 1), bindings[i]);
  std::vector<RunRecord> runs;
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    SS_ASSIGN_OR_RETURN(RunRecord run, RunFromRow(*stmt));
    runs.push_back(std::move(run));
  }
  for (RunRecord& run : runs) {
    SS_RETURN_IF_ERROR(impl_->LoadParams(&run));
    SS_RETURN_IF_ERROR(impl_->LoadLatestMetrics(&run));
  }
  return runs;
}

Result<std::vector<MetricPoint>> RunStore::GetMetricHistory(int64_t run_id, const std::string& key) {
  SS_ASSIGN_OR_RETURN(auto stmt, impl_->db->Prepare("SELECT k.key, m.step, m.value, m.wall_time FROM metrics m "
                                                    "JOIN metric_keys k ON k.id = m.key_id WHERE m.run_id = ?1 "
                                                    "AND (?2 = '' OR k.key = ?2) ORDER BY k.key, m.step"));
  stmt->Bind(1, run_id).Bind(2, key);
  std::vector<MetricPoint> points;
  while (true) {
    SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    points.push_back({stmt->Text(0), stmt->Int(1), stmt->Real(2), stmt->Real(3)});
  }
  return points;
}

Result<std::vector<std::string>> RunStore::ParamKeys(const std::string& experiment) {
  if (experiment.empty()) return impl_->Keys("SELECT DISTINCT key FROM param_keys WHERE ?1 = '' ORDER BY key", "");
  return impl_->Keys("SELECT DISTINCT p.key FROM params p JOIN runs r ON r.id = p.run_id JOIN experiments e ON "
                     "e.id = r.experiment_id WHERE e.name = ?1 ORDER BY p.key",
                     experiment);
}

Result<std::vector<std::string>> RunStore::MetricKeys(const std::string& experiment) {
  if (experiment.empty()) return impl_->Keys("SELECT key FROM metric_keys WHERE ?1 = '' ORDER BY key", "");
  return impl_->Keys("SELECT k.key FROM metric_keys k WHERE EXISTS (SELECT 1 FROM latest_metrics l JOIN runs r ON "
                     "r.id = l.run_id JOIN experiments e ON e.id = r.experiment_id WHERE l.key_id = k.id AND "
                     "e.name = ?1) ORDER BY k.key",
                     experiment);
}

}  // namespace stylesweep
