#include "store/merge.h"

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <system_error>
#include <utility>

#include "common/file_io.h"
#include "common/sha256.h"
#include "store/run_store.h"
#include "store/sqlite_db.h"

namespace stylesweep {

namespace {

namespace fs = std::filesystem;
using sqlite::Database;
using sqlite::Statement;
using sqlite::Value;

// Higher is better: which of two records of one job the output keeps.
int StateRank(const std::string& status) {
  if (status == "FINISHED") return 4;
  if (status == "FAILED") return 3;
  if (status == "KILLED") return 2;
  if (status == "RUNNING") return 1;
  return 0;
}

std::optional<double> ToOptional(const Statement& stmt, int column) { return stmt.OptionalReal(column); }

Value RealOrNull(const Statement& stmt, int column) {
  if (stmt.IsNull(column)) return std::monostate{};
  return stmt.Real(column);
}

// A canonical path for comparing store folders (the folder may not exist yet).
std::string CanonicalFolder(const std::string& dir) {
  std::error_code error;
  fs::path path = fs::weakly_canonical(fs::absolute(dir), error);
  return error ? fs::absolute(dir).lexically_normal().string() : path.string();
}

// One run of an input store, as read from its `runs` row.
struct InputRun {
  int64_t id = 0;
  int64_t experiment_id = 0;
  std::string config_hash;
  std::string status;
  int64_t attempts = 0;
  std::string host;
  int64_t rank = -1;
  std::string device;
  double queued_time = 0;
  std::optional<double> start_time;
  std::optional<double> end_time;
  std::string error_message;
};

// A run's params as canonical text, "key=type:text;..." in key order, to
// notice two stores that disagree about one job key.
Result<std::string> ParamsFingerprint(Database* db, int64_t run_id) {
  SS_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT key, type, text_value FROM params WHERE run_id = ? ORDER BY key"));
  stmt->Bind(1, run_id);
  std::string text;
  for (;;) {
    SS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    text += stmt->Text(0) + "=" + stmt->Text(1) + ":" + stmt->Text(2) + ";";
  }
  return text;
}

// Merges one input store into the output inside the caller's transaction.
class InputMerger {
 public:
  InputMerger(Database* out, const std::string& out_dir, Database* in, const std::string& in_dir, MergeSummary* summary)
      : out_(out), out_dir_(out_dir), in_(in), in_dir_(in_dir), summary_(summary) {}

  Status Run() {
    SS_RETURN_IF_ERROR(MergeExperiments());
    SS_RETURN_IF_ERROR(MergeKeys());
    SS_ASSIGN_OR_RETURN(auto runs, in_->Prepare(
        "SELECT id, experiment_id, config_hash, status, attempts, host, rank, device, queued_time, start_time, "
        "end_time, error_message FROM runs ORDER BY id"));
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, runs->Step());
      if (!row) break;
      InputRun run;
      run.id = runs->Int(0);
      run.experiment_id = runs->Int(1);
      run.config_hash = runs->Text(2);
      run.status = runs->Text(3);
      run.attempts = runs->Int(4);
      run.host = runs->Text(5);
      run.rank = runs->Int(6);
      run.device = runs->Text(7);
      run.queued_time = runs->Real(8);
      run.start_time = ToOptional(*runs, 9);
      run.end_time = ToOptional(*runs, 10);
      run.error_message = runs->Text(11);
      SS_RETURN_IF_ERROR(MergeRun(run).WithContext("run " + std::to_string(run.id) + " of " + in_dir_));
    }
    return Status::Ok();
  }

  // Files written into the output.
  const std::vector<std::string>& written_files() const { return written_files_; }
  // Those of them that did not exist before (to remove if the transaction fails).
  const std::vector<std::string>& created_files() const { return created_files_; }
  // Output artifact files that replaced runs no longer reference (to remove
  // once the transaction committed).
  const std::vector<std::string>& replaced_files() const { return replaced_files_; }

 private:
  Status MergeExperiments() {
    SS_ASSIGN_OR_RETURN(auto experiments,
                        in_->Prepare("SELECT id, name, sweep_text, sweep_hash, code_version, created_time FROM experiments"));
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, experiments->Step());
      if (!row) break;
      const std::string name = experiments->Text(1);
      SS_ASSIGN_OR_RETURN(auto find, out_->Prepare("SELECT id, sweep_hash FROM experiments WHERE name = ?"));
      find->Bind(1, name);
      SS_ASSIGN_OR_RETURN(bool found, find->Step());
      if (found) {
        if (find->Text(1) != experiments->Text(3)) {
          summary_->warnings.push_back("experiment '" + name + "' in " + in_dir_ +
                                       " was run from a different sweep file (sweep hash " +
                                       experiments->Text(3).substr(0, 12) + " vs " + find->Text(1).substr(0, 12) +
                                       "); its runs were merged by job key and the output keeps its own sweep text");
        }
        experiment_ids_[experiments->Int(0)] = find->Int(0);
        continue;
      }
      SS_ASSIGN_OR_RETURN(auto insert, out_->Prepare(
          "INSERT INTO experiments(name, sweep_text, sweep_hash, code_version, created_time) VALUES (?, ?, ?, ?, ?)"));
      insert->Bind(1, name).Bind(2, experiments->Text(2)).Bind(3, experiments->Text(3)).Bind(4, experiments->Text(4));
      insert->Bind(5, experiments->Real(5));
      SS_RETURN_IF_ERROR(insert->Run());
      experiment_ids_[experiments->Int(0)] = out_->LastInsertId();
      ++summary_->experiments_created;
    }
    return Status::Ok();
  }

  // Param keys are copied as they are; metric key ids are the output's own.
  Status MergeKeys() {
    SS_ASSIGN_OR_RETURN(auto param_keys, in_->Prepare("SELECT key, type FROM param_keys"));
    SS_ASSIGN_OR_RETURN(auto insert_param_key, out_->Prepare("INSERT OR IGNORE INTO param_keys(key, type) VALUES (?, ?)"));
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, param_keys->Step());
      if (!row) break;
      insert_param_key->Reset();
      insert_param_key->Bind(1, param_keys->Text(0)).Bind(2, param_keys->Text(1));
      SS_RETURN_IF_ERROR(insert_param_key->Run());
    }
    SS_ASSIGN_OR_RETURN(auto metric_keys, in_->Prepare("SELECT id, key FROM metric_keys"));
    SS_ASSIGN_OR_RETURN(auto insert_metric_key, out_->Prepare("INSERT OR IGNORE INTO metric_keys(key) VALUES (?)"));
    SS_ASSIGN_OR_RETURN(auto find_metric_key, out_->Prepare("SELECT id FROM metric_keys WHERE key = ?"));
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, metric_keys->Step());
      if (!row) break;
      insert_metric_key->Reset();
      insert_metric_key->Bind(1, metric_keys->Text(1));
      SS_RETURN_IF_ERROR(insert_metric_key->Run());
      find_metric_key->Reset();
      find_metric_key->Bind(1, metric_keys->Text(1));
      SS_ASSIGN_OR_RETURN(bool found, find_metric_key->Step());
      if (!found) return Status::Internal("metric key '" + metric_keys->Text(1) + "' vanished while merging");
      metric_key_ids_[metric_keys->Int(0)] = find_metric_key->Int(0);
    }
    return Status::Ok();
  }

  Status MergeRun(const InputRun& run) {
    auto experiment = experiment_ids_.find(run.experiment_id);
    if (experiment == experiment_ids_.end()) {
      return Status::Corrupt("names experiment id " + std::to_string(run.experiment_id) + ", which the store lacks");
    }
    SS_ASSIGN_OR_RETURN(auto find, out_->Prepare("SELECT id, status FROM runs WHERE experiment_id = ? AND config_hash = ?"));
    find->Bind(1, experiment->second).Bind(2, run.config_hash);
    SS_ASSIGN_OR_RETURN(bool exists, find->Step());
    if (!exists) {
      SS_ASSIGN_OR_RETURN(auto insert, out_->Prepare(
          "INSERT INTO runs(experiment_id, config_hash, status, attempts, host, rank, device, queued_time, start_time, "
          "end_time, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      insert->Bind(1, experiment->second).Bind(2, run.config_hash).Bind(3, run.status).Bind(4, run.attempts);
      insert->Bind(5, run.host).Bind(6, run.rank).Bind(7, run.device).Bind(8, run.queued_time);
      insert->BindOptional(9, run.start_time).BindOptional(10, run.end_time).Bind(11, run.error_message);
      SS_RETURN_IF_ERROR(insert->Run());
      ++summary_->runs_added;
      return CopyRunDetails(run.id, out_->LastInsertId());
    }
    const int64_t out_run = find->Int(0);
    const std::string out_status = find->Text(1);
    SS_ASSIGN_OR_RETURN(std::string in_params, ParamsFingerprint(in_, run.id));
    SS_ASSIGN_OR_RETURN(std::string out_params, ParamsFingerprint(out_, out_run));
    if (in_params != out_params) {
      summary_->warnings.push_back("job " + run.config_hash.substr(0, 12) + " has different params in " + in_dir_ +
                                   " than in the output; the " +
                                   (StateRank(run.status) > StateRank(out_status) ? "input's" : "output's") +
                                   " record (the better state) was kept");
    }
    if (StateRank(run.status) <= StateRank(out_status)) {
      if (run.status == "FINISHED" && out_status == "FINISHED") {
        ++summary_->duplicates_skipped;
      } else {
        ++summary_->runs_kept;
      }
      return Status::Ok();
    }
    SS_RETURN_IF_ERROR(ClearRun(out_run));
    SS_ASSIGN_OR_RETURN(auto update, out_->Prepare(
        "UPDATE runs SET status = ?, attempts = ?, host = ?, rank = ?, device = ?, queued_time = ?, start_time = ?, "
        "end_time = ?, error_message = ? WHERE id = ?"));
    update->Bind(1, run.status).Bind(2, run.attempts).Bind(3, run.host).Bind(4, run.rank).Bind(5, run.device);
    update->Bind(6, run.queued_time).BindOptional(7, run.start_time).BindOptional(8, run.end_time);
    update->Bind(9, run.error_message).Bind(10, out_run);
    SS_RETURN_IF_ERROR(update->Run());
    ++summary_->runs_replaced;
    return CopyRunDetails(run.id, out_run);
  }

  // Removes everything recorded about an output run except its row.
  Status ClearRun(int64_t out_run) {
    SS_ASSIGN_OR_RETURN(auto paths, out_->Prepare("SELECT path FROM artifacts WHERE run_id = ?"));
    paths->Bind(1, out_run);
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, paths->Step());
      if (!row) break;
      replaced_files_.push_back(out_dir_ + "/" + paths->Text(0));
    }
    for (const char* table : {"params", "metrics", "latest_metrics", "timings", "artifacts"}) {
      SS_ASSIGN_OR_RETURN(auto clear, out_->Prepare(std::string("DELETE FROM ") + table + " WHERE run_id = ?"));
      clear->Bind(1, out_run);
      SS_RETURN_IF_ERROR(clear->Run());
    }
    return Status::Ok();
  }

  Status CopyRunDetails(int64_t in_run, int64_t out_run) {
    SS_ASSIGN_OR_RETURN(auto params, in_->Prepare("SELECT key, type, num_value, text_value FROM params WHERE run_id = ?"));
    params->Bind(1, in_run);
    SS_ASSIGN_OR_RETURN(auto insert_param, out_->Prepare(
        "INSERT INTO params(run_id, key, type, num_value, text_value) VALUES (?, ?, ?, ?, ?)"));
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, params->Step());
      if (!row) break;
      insert_param->Reset();
      insert_param->Bind(1, out_run).Bind(2, params->Text(0)).Bind(3, params->Text(1));
      insert_param->Bind(4, RealOrNull(*params, 2)).Bind(5, params->Text(3));
      SS_RETURN_IF_ERROR(insert_param->Run());
    }
    for (const char* table : {"metrics", "latest_metrics"}) {
      SS_ASSIGN_OR_RETURN(auto points, in_->Prepare(std::string("SELECT key_id, step, value, wall_time FROM ") + table +
                                                    " WHERE run_id = ?"));
      points->Bind(1, in_run);
      SS_ASSIGN_OR_RETURN(auto insert_point, out_->Prepare(std::string("INSERT INTO ") + table +
                                                           "(run_id, key_id, step, value, wall_time) VALUES (?, ?, ?, ?, ?)"));
      for (;;) {
        SS_ASSIGN_OR_RETURN(bool row, points->Step());
        if (!row) break;
        auto key = metric_key_ids_.find(points->Int(0));
        if (key == metric_key_ids_.end()) {
          return Status::Corrupt("a metric names key id " + std::to_string(points->Int(0)) + ", which the store lacks");
        }
        insert_point->Reset();
        insert_point->Bind(1, out_run).Bind(2, key->second).Bind(3, points->Int(1));
        insert_point->Bind(4, RealOrNull(*points, 2)).Bind(5, points->Real(3));
        SS_RETURN_IF_ERROR(insert_point->Run());
      }
    }
    SS_ASSIGN_OR_RETURN(auto timings, in_->Prepare("SELECT phase, seconds FROM timings WHERE run_id = ?"));
    timings->Bind(1, in_run);
    SS_ASSIGN_OR_RETURN(auto insert_timing, out_->Prepare("INSERT INTO timings(run_id, phase, seconds) VALUES (?, ?, ?)"));
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, timings->Step());
      if (!row) break;
      insert_timing->Reset();
      insert_timing->Bind(1, out_run).Bind(2, timings->Text(0)).Bind(3, timings->Real(1));
      SS_RETURN_IF_ERROR(insert_timing->Run());
    }
    return CopyArtifacts(in_run, out_run);
  }

  // Copies each artifact file under artifacts/<out_run>/ after checking its
  // sha256; a missing or damaged file is left out with a warning.
  Status CopyArtifacts(int64_t in_run, int64_t out_run) {
    SS_ASSIGN_OR_RETURN(auto artifacts, in_->Prepare(
        "SELECT kind, step, path, sha256, width, height, bytes, created_time FROM artifacts WHERE run_id = ?"));
    artifacts->Bind(1, in_run);
    SS_ASSIGN_OR_RETURN(auto insert, out_->Prepare(
        "INSERT INTO artifacts(run_id, kind, step, path, sha256, width, height, bytes, created_time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (;;) {
      SS_ASSIGN_OR_RETURN(bool row, artifacts->Step());
      if (!row) break;
      const std::string source = in_dir_ + "/" + artifacts->Text(2);
      Result<std::string> bytes = ReadWholeFile(source);
      if (!bytes.ok()) {
        summary_->warnings.push_back("artifact " + source + " left out: " + bytes.status().message());
        continue;
      }
      if (Sha256Hex(*bytes) != artifacts->Text(3)) {
        summary_->warnings.push_back("artifact " + source + " left out: its sha256 does not match the store's record");
        continue;
      }
      const std::string relative = std::string(RunStore::kArtifactsDir) + "/" + std::to_string(out_run) + "/" +
                                   fs::path(artifacts->Text(2)).filename().string();
      const std::string destination = out_dir_ + "/" + relative;
      std::error_code ignored;
      const bool existed = fs::exists(destination, ignored);
      SS_RETURN_IF_ERROR(WriteFileAtomically(destination, *bytes));
      written_files_.push_back(destination);
      if (!existed) created_files_.push_back(destination);
      insert->Reset();
      insert->Bind(1, out_run).Bind(2, artifacts->Text(0)).Bind(3, artifacts->Int(1)).Bind(4, relative);
      insert->Bind(5, artifacts->Text(3)).Bind(6, artifacts->Int(4)).Bind(7, artifacts->Int(5));
      insert->Bind(8, artifacts->Int(6)).Bind(9, artifacts->Real(7));
      SS_RETURN_IF_ERROR(insert->Run());
      ++summary_->artifacts_copied;
    }
    return Status::Ok();
  }

  Database* out_;
  const std::string& out_dir_;
  Database* in_;
  const std::string& in_dir_;
  MergeSummary* summary_;
  std::map<int64_t, int64_t> experiment_ids_;  // input id -> output id
  std::map<int64_t, int64_t> metric_key_ids_;  // input id -> output id
  std::vector<std::string> written_files_;
  std::vector<std::string> created_files_;
  std::vector<std::string> replaced_files_;
};

void RemoveFiles(const std::vector<std::string>& paths, const std::set<std::string>& keep = {}) {
  for (const std::string& path : paths) {
    if (keep.count(path) != 0) continue;
    std::error_code ignored;
    fs::remove(path, ignored);
  }
}

}  // namespace

Result<MergeSummary> MergeStores(const std::vector<std::string>& inputs, const std::string& output) {
  if (inputs.empty()) return Status::InvalidArgument("give at least one store to merge");
  const std::string output_canonical = CanonicalFolder(output);
  std::set<std::string> seen;
  for (const std::string& input : inputs) {
    const std::string canonical = CanonicalFolder(input);
    if (canonical == output_canonical) {
      return Status::InvalidArgument("store " + input + " is both an input and the output; the output is merged into "
                                     "anyway, so leave it out of the inputs");
    }
    if (!seen.insert(canonical).second) return Status::InvalidArgument("store " + input + " is named twice");
  }

  // Every input must be a readable store before the output is touched.
  std::vector<std::string> input_dirs;
  for (const std::string& input : inputs) {
    StoreOptions read_only;
    read_only.mode = OpenMode::kReadOnly;
    Result<std::unique_ptr<RunStore>> checked = RunStore::Open(input, read_only);
    if (!checked.ok()) return checked.status().WithContext("store to merge " + input);
    input_dirs.push_back((*checked)->dir());
  }

  // Creates or migrates the output through the store's own code, then merges
  // over a plain connection (the merge writes rows RunStore has no call for:
  // attempts, hosts and times as recorded elsewhere).
  StoreOptions writable;
  SS_ASSIGN_OR_RETURN(std::unique_ptr<RunStore> created, RunStore::Open(output, writable));
  const std::string out_dir = created->dir();
  created.reset();
  SS_ASSIGN_OR_RETURN(std::unique_ptr<Database> out,
                      Database::Open(out_dir + "/" + RunStore::kDatabaseFile, false, writable.busy_timeout_ms));

  MergeSummary summary;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& input = inputs[i];
    const std::string& in_dir = input_dirs[i];
    SS_ASSIGN_OR_RETURN(std::unique_ptr<Database> in,
                        Database::Open(in_dir + "/" + RunStore::kDatabaseFile, true, writable.busy_timeout_ms));
    SS_ASSIGN_OR_RETURN(auto transaction, sqlite::Transaction::Begin(out.get()));
    InputMerger merger(out.get(), out_dir, in.get(), in_dir, &summary);
    Status merged = merger.Run();
    if (merged.ok()) merged = transaction->Commit();
    if (!merged.ok()) {
      transaction.reset();
      RemoveFiles(merger.created_files());
      return merged.WithContext("merging " + input + " into " + output);
    }
    const std::vector<std::string>& written = merger.written_files();
    RemoveFiles(merger.replaced_files(), std::set<std::string>(written.begin(), written.end()));
    ++summary.inputs;
  }
  return summary;
}

}  // namespace stylesweep
