// The sweep language: a YAML sweep file -> a validated SweepSpec -> the list
// of jobs (JobSpec) it stands for, each with a stable identity.
//
//   name: fig3
//   method: grid                 # or random (with count and seed)
//   content: [${images}/content/tubingen.jpg]
//   style: [${images}/style/composition_vii.jpg]
//   base: {backbone: vgg19, size: 512}
//   parameters:
//     alpha_beta: {values: [1e-5, 1e-4, 1e-3, 1e-2]}
//     style_layers: {values: [[relu1_1], [relu1_1, relu2_1]]}
//   zip: [[a, b]]                # parameters that advance together
//   repeats: 1                   # copies with seeds seed, seed+1, ...
//   output: {dataset: out/ds}    # optional: final images as a dataset
//
// docs/SWEEPS.md describes every key. Parameter and base keys are the
// StyleOptions keys of engine/style_options.h, so every setting of the
// stylize command is sweepable.
//
// Two steps, so that a sweep can be checked without touching the disk:
//   ParseSweep / LoadSweepFile: syntax, keys, value types, zip groups,
//     overrides. Pure (LoadSweepFile only reads the file).
//   ExpandSweep: images (globs, folders; every missing one listed at once),
//     layers against the weights file, per-job option checks, identity hashes.
//
// Thread safety: all functions are reentrant; a FileHasher may be shared
// between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "engine/style_options.h"

namespace stylesweep {

class FileHasher;  // experiments/file_hash.h

enum class SweepMethod { kGrid, kRandom };
enum class Distribution { kNone, kUniform, kLogUniform, kIntUniform };

// Where something was written in the sweep file (1-based; 0 when it came from
// a command-line override).
struct SourceMark {
  int line = 0;
  int column = 0;
};

// One entry of `parameters:`. Exactly one of: `values` (several; grid crosses
// them, random picks one uniformly), `value` (one, stored as a one-element
// `values`), or a distribution with `min`/`max` (random method only).
struct ParameterSpec {
  std::string key;                  // a StyleOptions key ("style_weight", "alpha_beta", ...)
  std::vector<std::string> values;  // each as SetStyleOption parses it; lists comma-joined
  Distribution distribution = Distribution::kNone;
  double min = 0.0;                 // distribution bounds, inclusive; log_uniform needs min > 0
  double max = 0.0;
  SourceMark mark;                  // where the parameter was declared
};

// A set of style images used together by one job (blended, style_blend).
// Each pattern is a file, a folder (its images, sorted) or a glob; relative
// paths resolve against SweepSpec::base_dir; ${shared}, ${images},
// ${models} and ${sweep_dir} expand first.
struct StyleEntry {
  std::vector<std::string> patterns;  // one pattern: one job per matched file; a YAML list: one blended set
  bool blend = false;                 // true when written as a list: all matches form one style set
  SourceMark mark;
};

// `output:` — what the scheduler does with final images beyond the store.
struct OutputSpec {
  // Folder to write each job's final image to, plus manifest.jsonl (one JSON
  // line per job: file, job_key, content, styles, params). Empty: no dataset.
  // ${sweep_dir} and ${shared} expand when the file is parsed; other relative
  // paths resolve against the scheduler's working directory.
  std::string dataset_dir;
  // File name (without extension) per job; placeholders {content} and
  // {style} (file stems, "+"-joined), {key} (12-hex short key), {index},
  // {repeat}, and {SETTING} for any swept setting ({alpha_beta}).
  // ExpandSweep checks the names are unique. Default "{content}_{style}".
  // May contain '/' ("{style}/{content}"): folder output then nests files in
  // subfolders (class-per-folder trees); no leading '/', no ".." part.
  std::string name_pattern = "{content}_{style}";
  // Filter in the `runs --where` language over a finished run's params and
  // metrics (the judge's eval/ scores included): only the images of runs
  // that pass are written to the dataset folder. Empty: every image.
  std::string keep;
  // "folder" (default): one PNG per job under dataset_dir. "webdataset": tar
  // shards NAME-000000.tar (NAME: the sweep's name) of shard_size samples,
  // each KEY.png, KEY.json (the manifest line) and, with include_content,
  // KEY.content.EXT; KEY is the job key (store/tar_shards.h).
  std::string format = "folder";
  int shard_size = 1000;         // webdataset: samples per shard, >= 1
  bool include_content = false;  // webdataset: add each job's content image as KEY.content.png/.jpg
  // folder: the most images one folder may receive (ExpandSweep refuses more,
  // suggesting a nested output.name); 0: no limit. Default 10,000, which
  // cluster file systems list and open without trouble.
  int max_per_folder = 10000;
};

// `metric:` — which final value ranks runs when a sweep prints its best ones.
struct MetricSpec {
  std::string name = "total_loss";  // a metric the engine reports at the end of a run
  bool minimize = true;             // goal: minimize (default) or maximize
  int top = 5;                      // how many best runs to print
};

// A parsed, syntactically valid sweep file. Paths are still patterns.
struct SweepSpec {
  std::string name;            // required; names the experiment in the store
  std::string description;     // free text, may be empty
  std::string source;          // file path or the source name given to ParseSweep
  std::string text;            // the YAML text as parsed (stored with a new experiment)
  std::string base_dir;        // folder relative input paths resolve against
  SweepMethod method = SweepMethod::kGrid;
  int count = 0;               // random: number of parameter samples (required, > 0)
  std::uint64_t seed = 0;      // random: sampling seed (not the engine seed)
  std::vector<std::pair<std::string, std::string>> base;  // fixed settings, file order
  std::vector<ParameterSpec> parameters;                   // swept settings, file order
  std::vector<std::vector<std::string>> zip;               // groups of parameter keys
  int repeats = 1;             // copies per configuration; engine seed += repeat index
  std::vector<std::string> content;  // content patterns (file, folder or glob)
  std::vector<StyleEntry> style;
  OutputSpec output;
  MetricSpec metric;
  // Devices (MPI ranks) that run each job together, the image split into
  // horizontal bands (engine/band_transfer.h): for images one device cannot
  // hold. 1 (default): one device per job. Not part of a job's key: the
  // result equals the single-device one within docs/BAND_SPLIT.md's tolerance.
  int devices_per_job = 1;
  // Let a job's group of devices_per_job ranks span nodes when a node has
  // fewer worker ranks left than a whole group (scheduler/worker_groups.h):
  // `bands_across_nodes: true` or the override bands_across_nodes=true.
  // Default false: each node needs a multiple of devices_per_job workers.
  // CPU only (the MPI collectives cross hosts; NCCL bands stay on one node).
  bool bands_across_nodes = false;
  // Leave out images that cannot be read or decoded (header check) instead of
  // refusing the sweep: `skip_unreadable: true`, override skip_unreadable=true,
  // or --skip-unreadable on plan and sweep. Default false: every bad image is
  // listed and nothing runs. Patterns that match nothing, files named one by
  // one that do not exist, and members of blended style sets still refuse.
  bool skip_unreadable = false;
};

inline constexpr int kMaxDevicesPerJob = 64;

// Parses a sweep from YAML text. `source_name` names it in messages and its
// folder becomes base_dir (use the file's path, or e.g. "<string>" with
// base_dir the working directory). `overrides` are command-line settings
// "key=v1,v2" applied after the file (see ApplySweepOverride).
// Errors are kInvalidArgument "source:line:col: message"; unknown keys name
// the closest valid key.
Result<SweepSpec> ParseSweep(const std::string& yaml_text, const std::string& source_name,
                             const std::vector<std::string>& overrides = {});

// Reads `path` and parses it (kNotFound / kIoError when unreadable).
Result<SweepSpec> LoadSweepFile(const std::string& path, const std::vector<std::string>& overrides = {});

// Applies one command-line override to `spec`:
//   key=v            a single value (replaces the parameter or base setting)
//   key=v1,v2,...    swept values (scalar settings)
//   key=a,b;c        list-valued settings (style_layers, content_layers,
//                    style_layer_weights, style_blend, scales): alternatives
//                    are separated by ';', items by ','; each alternative may
//                    be wrapped in [ ]: style_layers=[relu1_1,relu2_1];[relu1_1]
//   repeats=N, count=N, seed=N is the engine seed; sampling_seed=N the random method's.
// Unknown keys are rejected with the closest valid key.
Status ApplySweepOverride(SweepSpec& spec, const std::string& override_text);

// What a weights file makes of a job's layer choice.
struct CheckedLayers {
  std::string weights_path;                 // the file the job will load (resolved)
  std::vector<std::string> content_layers;  // resolved (defaults filled in)
  std::vector<std::string> style_layers;
  std::string note;                         // non-empty when defaults were adapted to the file
};

// Checks `options`' backbone, weights and layers; `models_dir` holds the
// default weights files. Returns kInvalidArgument / kNotFound naming the bad
// layer or file. Must be callable from one thread at a time per object.
using LayerChecker = std::function<Result<CheckedLayers>(const StyleOptions& options, const std::string& models_dir)>;

// The real checker: GetBackboneSpec + InspectWeights + ResolveLayers from
// engine/backbone_spec.h (experiments/backbone_layer_checker.cc).
LayerChecker BackboneLayerChecker();

// An image left out of a sweep under skip_unreadable.
struct SkippedImage {
  std::string path;    // absolute
  std::string reason;  // why it could not be used, e.g. "not a PNG or JPEG"
};

struct ExpandContext {
  std::string shared_dir;      // ${shared}; empty: ResolveSharedDir()
  std::string models_dir;      // default weights folder; empty: <shared_dir>/models
  LayerChecker layer_checker;  // required
  FileHasher* hasher = nullptr;  // file-hash cache to use; null: a private one for this call
  // Receives (replacing its contents) the images left out under
  // spec.skip_unreadable, each once, sorted by path; may be null.
  std::vector<SkippedImage>* skipped = nullptr;
};

// One run of the engine.
struct JobSpec {
  int index = 0;                     // position in the expanded sweep, from 0
  std::string job_key;               // 64 hex: sha256 of the canonical identity (CanonicalJobJson)
  std::string content_path;          // absolute
  std::vector<std::string> style_paths;  // absolute; several: blended
  StyleOptions options;              // every setting, layers and weights resolved
  std::vector<std::pair<std::string, std::string>> params;  // swept key -> value text, file order
  int repeat = 0;                    // repeat index, 0..repeats-1
  double cost = 0.0;                 // estimated work: sum over stages of output pixels x iterations
  std::string style_key;             // 64 hex: equal keys have identical style targets (Gram matrices)
  std::string output_name;           // dataset file name without extension; empty without output.dataset
  std::string weights_sha256;        // of options.weights
  std::string content_sha256;
  std::vector<std::string> style_sha256;
};

// Expands `spec` into jobs: grid = the cross product of parameters (zip
// groups as one axis; last parameter varies fastest) x content x style sets x
// repeats; random = `count` samples x content x style sets x repeats.
// Jobs with the same job_key collapse to the first. Fails, before returning
// any job, with every missing or unreadable image listed in one message
// (with spec.skip_unreadable: unreadable files found by a folder or glob, or
// named one by one, are left out and reported through context.skipped, and
// the call fails only when no content image or no style set remains),
// with the first bad layer / option combination (naming the swept values),
// or when the expansion exceeds kMaxSweepJobs.
Result<std::vector<JobSpec>> ExpandSweep(const SweepSpec& spec, const ExpandContext& context);

inline constexpr std::int64_t kMaxSweepJobs = 1000000;

// The canonical JSON a job's key hashes (sorted keys, no whitespace):
// {"content_sha256", "options" (StyleOptionsToMap minus kNonIdentityKeys and
// weights), "repeat", "schema", "style_sha256" [...], "weights_sha256"}.
std::string CanonicalJobJson(const JobSpec& job);

// Settings that say where or how a job runs, not what it computes; they are
// left out of the job key so that the scheduler may place a job on any
// device: device, channels_last, save_every (and weights, hashed by content).
const std::vector<std::string>& NonIdentityKeys();

// The first 12 hex digits of a key, for tables and file names.
std::string ShortKey(const std::string& key);

// A dataset image's name from output.name: {content} and {style} (style
// stems joined by "+"), {key} (ShortKey), {index}, {repeat} and {<param>}
// for each swept setting replaced by the job's values; other text is kept.
std::string DatasetFileName(const std::string& pattern, const JobSpec& job);

}  // namespace stylesweep
