// The experiment store's plain data: what a run, a param, a metric point, a
// timing and an artifact are. Torch-free and MPI-free; the scheduler fills
// these on the coordinator and hands them to RunStore (run_store.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace stylesweep {

// A run's life: QUEUED -> RUNNING -> FINISHED | FAILED | KILLED. A run left
// RUNNING by a crashed sweep goes back to QUEUED (or to KILLED) through
// RunStore::RequeueUnfinished; FAILED and KILLED runs may be started again.
enum class RunStatus { kQueued, kRunning, kFinished, kFailed, kKilled };

// "QUEUED", "RUNNING", "FINISHED", "FAILED", "KILLED" (as stored and printed).
const char* RunStatusName(RunStatus status);
// Accepts the names above in any case; kInvalidArgument lists the valid ones.
Result<RunStatus> ParseRunStatus(const std::string& text);
// True for FINISHED, FAILED and KILLED.
bool IsTerminal(RunStatus status);

// A run's id and status without its params or metrics (found by config
// hash in RunStore::ListRunStates): what a sweep's start needs for every job.
struct RunState {
  int64_t id = 0;
  RunStatus status = RunStatus::kQueued;
};

// A param's value: a number, a string, or a list of numbers and strings
// (style layers, scale stages). Stored with its type so that
// `params.style_weight > 100` compares numerically.
struct ParamValue {
  enum class Type { kNumber, kString, kList };
  Type type = Type::kNumber;
  double number = 0;              // kNumber only
  std::string text;               // kString only
  std::vector<ParamValue> items;  // kList only; items are numbers or strings

  static ParamValue Number(double value);
  static ParamValue String(std::string value);
  static ParamValue List(std::vector<ParamValue> items);

  // Canonical text: numbers in shortest round-trip form ("1000", "0.001"),
  // strings as they are, lists as compact JSON (["relu1_1",2]). Two values are
  // equal exactly when their types and canonical texts are equal.
  std::string ToText() const;
  bool operator==(const ParamValue& other) const;
  bool operator!=(const ParamValue& other) const { return !(*this == other); }
};

const char* ParamTypeName(ParamValue::Type type);  // "number", "string", "list"

// A run's params by key: immutable once the run exists.
using Params = std::map<std::string, ParamValue>;

// The keys of the params that are on/off settings (tf32,
// normalize_objective...). The store keeps them as the strings "true" and
// "false" (its param types are number, string and list); JSON output prints
// them as JSON booleans, tables and CSV as true and false. The store does not
// know the engine's settings: the caller passes them (BoolOptionKeys() in
// scheduler/run_params.h).
using BoolParamKeys = std::set<std::string>;

// The on/off value of the param `key`: set when `key` is in `bool_params` and
// `value` is the string "true" or "false"; nullopt for any other param.
std::optional<bool> BoolParam(const std::string& key, const ParamValue& value, const BoolParamKeys& bool_params);

// One point of a metric's history. A NaN value is stored and read back as NaN.
struct MetricPoint {
  std::string key;         // "total_loss", "style_loss", "eval/ssim"...
  int64_t step = 0;        // optimiser step (loss evaluation), >= 0
  double value = 0;        // the metric's value at `step`
  double wall_time = 0;    // seconds since the Unix epoch when it was measured
};

// Seconds spent in one phase of a run ("load", "features", "optimize", "save").
struct PhaseTiming {
  std::string phase;
  double seconds = 0;
};

enum class ArtifactKind { kFinal, kSnapshot };
const char* ArtifactKindName(ArtifactKind kind);  // "final", "snapshot"

// An image to record: either its encoded bytes or a file to copy. The store
// writes it under <store>/artifacts/ (temporary name, fsync, rename) and
// records its sha256.
struct ArtifactInput {
  ArtifactKind kind = ArtifactKind::kFinal;
  int64_t step = 0;          // optimiser step the image shows (final: the last)
  std::string bytes;         // encoded file contents; used when source_path is empty
  std::string source_path;   // a file to copy instead of `bytes`
  std::string extension = "png";  // file name extension, without the dot
  int width = 0;             // px
  int height = 0;            // px
};

// A recorded artifact.
struct Artifact {
  int64_t id = 0;
  int64_t run_id = 0;
  ArtifactKind kind = ArtifactKind::kFinal;
  int64_t step = 0;
  std::string path;          // relative to the store folder: "artifacts/12/final-300-9f86d081.png"
  std::string sha256;        // lower-case hex of the file's contents
  int width = 0;             // px
  int height = 0;            // px
  int64_t bytes = 0;         // file size
};

// Everything a finished attempt produced, recorded at once by
// RunStore::RecordRunResult (one transaction).
struct RunResult {
  RunStatus status = RunStatus::kFinished;  // FINISHED, FAILED or KILLED
  std::string error_message;                // empty for FINISHED
  std::vector<MetricPoint> metrics;         // history; may be empty
  std::vector<PhaseTiming> timings;
  std::vector<ArtifactInput> artifacts;
  std::optional<double> end_time;           // seconds since epoch; default: now
};

struct Experiment {
  int64_t id = 0;
  std::string name;          // unique in the store
  std::string sweep_text;    // the sweep file's text as run
  std::string sweep_hash;    // its hash (computed by the sweep language)
  std::string code_version;  // stylesweep version / git commit that created it
  double created_time = 0;   // seconds since epoch
  std::map<RunStatus, int64_t> run_counts;  // runs by status (absent: zero)
};

// One run with everything recorded about it. ListRuns fills params and
// latest_metrics; GetRun fills timings and artifacts too.
struct RunRecord {
  int64_t id = 0;                 // stable, short: what users type
  int64_t experiment_id = 0;
  std::string experiment;         // the experiment's name
  std::string config_hash;        // unique within the experiment
  RunStatus status = RunStatus::kQueued;
  int attempts = 0;               // times StartRun was called
  std::string host;               // empty until started
  int rank = -1;                  // MPI rank of the worker; -1 until started
  std::string device;             // "cpu", "cuda:0"...
  double queued_time = 0;         // seconds since epoch
  std::optional<double> start_time;  // of the latest attempt
  std::optional<double> end_time;
  std::string error_message;
  Params params;
  std::map<std::string, MetricPoint> latest_metrics;  // by key: the point with the highest step
  std::vector<PhaseTiming> timings;  // GetRun only
  std::vector<Artifact> artifacts;   // GetRun only

  // end - start in seconds, when both are known.
  std::optional<double> duration() const;
};

// What `stylesweep runs` asks for. See docs/STORE.md for the filter language.
struct RunQuery {
  std::string experiment;          // experiment name; empty: all experiments
  std::string where;               // filter expression; empty: every run
  std::vector<std::string> sort;   // "metrics.loss", "params.style_weight:desc"; default: id
  int64_t limit = 0;               // at most this many runs; 0: no limit
};

}  // namespace stylesweep
