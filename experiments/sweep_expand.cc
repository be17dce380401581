// ExpandSweep: a SweepSpec -> validated jobs with stable identities.
#include <glob.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <unordered_set>

#include "common/sha256.h"
#include "common/shared_dir.h"
#include "common/text_index.h"
#include "experiments/file_hash.h"
#include "experiments/image_probe.h"
#include "experiments/job_table.h"
#include "experiments/sweep.h"
#include "common/text.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kJobSchema = "stylesweep-job-v1";
constexpr const char* kStyleSchema = "stylesweep-style-v1";
constexpr size_t kMaxListedProblems = 50;

std::string Where(const std::string& source, const SourceMark& mark) {
  if (mark.line <= 0) return source;
  return source + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
}

// Everything ExpandSweep needs to know about the sweep's environment.
struct Environment {
  std::string shared_dir;
  std::string models_dir;
  std::string sweep_dir;
};

// Replaces ${shared}, ${images}, ${models} and ${sweep_dir}; an unknown
// variable is kInvalidArgument naming it.
Result<std::string> ExpandVariables(const std::string& text, const Environment& env) {
  static const char* kKnown = "${shared}, ${images}, ${models}, ${sweep_dir}";
  std::string out;
  size_t position = 0;
  while (true) {
    size_t open = text.find("${", position);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string::npos) return Status::InvalidArgument("'" + text + "': unterminated ${");
    const std::string name = text.substr(open + 2, close - open - 2);
    std::string value;
    if (name == "shared") value = env.shared_dir;
    else if (name == "images") value = env.shared_dir + "/images";
    else if (name == "models") value = env.models_dir;
    else if (name == "sweep_dir") value = env.sweep_dir;
    else return Status::InvalidArgument("'" + text + "': unknown variable ${" + name + "} (known: " + kKnown + ")");
    out += text.substr(position, open - position) + value;
    position = close + 1;
  }
  return out + text.substr(position);
}

Result<std::string> ResolveInputPath(const std::string& pattern, const Environment& env) {
  SS_ASSIGN_OR_RETURN(std::string expanded, ExpandVariables(pattern, env));
  fs::path path(expanded);
  if (path.is_relative()) path = fs::path(env.sweep_dir) / path;
  return path.lexically_normal().string();
}

struct ImageFile {
  std::string path;
  ImageProbe probe;
  std::string sha256;
};

// Resolves patterns to image files, collecting every problem rather than
// stopping at the first.
class ImageResolver {
 public:
  ImageResolver(const Environment& env, FileHasher& hasher, const std::string& source)
      : env_(env), hasher_(hasher), source_(source) {}

  // With `skip_unreadable`, files that cannot be probed or hashed are
  // recorded in Skipped() instead of Problems(), except a file named on its
  // own that does not exist (a typo, not a broken image) and, when
  // `skippable` is false, any file (members of a blended style set).
  void SkipUnreadable(bool skip_unreadable) { skip_unreadable_ = skip_unreadable; }

  // The files `pattern` names, in a stable order (folders and globs sorted).
  std::vector<ImageFile> Resolve(const std::string& pattern, const std::string& role, const SourceMark& mark,
                                 bool skippable = true) {
    std::vector<ImageFile> out;
    auto problem = [&](const std::string& message) {
      problems_.push_back(role + " '" + pattern + "' (" + Where(source_, mark) + "): " + message);
    };
    Result<std::string> resolved = ResolveInputPath(pattern, env_);
    if (!resolved.ok()) {
      problem(resolved.status().message());
      return out;
    }
    std::vector<std::string> files;
    bool named_one_by_one = false;
    std::error_code error;
    if (resolved->find_first_of("*?[") != std::string::npos) {
      glob_t matches{};
      int rc = glob(resolved->c_str(), GLOB_TILDE, nullptr, &matches);
      if (rc == 0) {
        for (size_t i = 0; i < matches.gl_pathc; ++i) {
          if (fs::is_regular_file(matches.gl_pathv[i], error)) files.emplace_back(matches.gl_pathv[i]);
        }
      }
      globfree(&matches);
      if (files.empty()) {
        problem("matched no files");
        return out;
      }
    } else if (fs::is_directory(*resolved, error)) {
      for (const auto& entry : fs::directory_iterator(*resolved, error)) {
        if (entry.is_regular_file(error) && HasImageExtension(entry.path().string())) {
          files.push_back(entry.path().string());
        }
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        problem("folder " + *resolved + " has no .png or .jpg images");
        return out;
      }
    } else {
      files.push_back(*resolved);
      named_one_by_one = true;
    }
    for (const auto& file : files) {
      Result<HashedImage> digest = hasher_.HashImage(file);
      if (digest.ok()) {
        out.push_back({file, digest->probe, digest->sha256});
        continue;
      }
      const bool typo = named_one_by_one && digest.status().code() == StatusCode::kNotFound;
      if (skip_unreadable_ && skippable && !typo) {
        std::string reason = digest.status().message();  // "PATH: why": the path is said once
        if (reason.rfind(file + ": ", 0) == 0) reason.erase(0, file.size() + 2);
        skipped_.emplace(fs::path(file).lexically_normal().string(), reason);
      } else {
        problem(digest.status().message());
      }
    }
    return out;
  }

  // The files left out under SkipUnreadable, each once, sorted by path.
  std::vector<SkippedImage> Skipped() const {
    std::vector<SkippedImage> out;
    for (const auto& [path, reason] : skipped_) out.push_back({path, reason});
    return out;
  }

  // kNotFound listing every problem seen, or OK.
  Status Problems() const {
    if (problems_.empty()) return Status::Ok();
    std::vector<std::string> listed(problems_.begin(),
                                    problems_.begin() + std::min(problems_.size(), kMaxListedProblems));
    std::string message = std::to_string(problems_.size()) + " image problem" + (problems_.size() == 1 ? "" : "s") +
                          ":\n  " + JoinStrings(listed, "\n  ");
    if (problems_.size() > listed.size()) message += "\n  ... and " + std::to_string(problems_.size() - listed.size()) + " more";
    return Status::NotFound(message);
  }

 private:
  const Environment& env_;
  FileHasher& hasher_;
  std::string source_;
  bool skip_unreadable_ = false;
  std::vector<std::string> problems_;
  std::map<std::string, std::string> skipped_;  // path -> reason
};

// One axis of the parameter space: a parameter, or a zip group advancing
// together. values[i] is the i-th point: one text per key.
struct Axis {
  std::vector<const ParameterSpec*> members;
};

std::vector<Axis> BuildAxes(const SweepSpec& spec) {
  std::vector<Axis> axes;
  std::map<std::string, size_t> axis_of_key;
  for (const auto& parameter : spec.parameters) {
    auto group = std::find_if(spec.zip.begin(), spec.zip.end(), [&](const std::vector<std::string>& g) {
      return std::find(g.begin(), g.end(), parameter.key) != g.end();
    });
    if (group != spec.zip.end()) {
      bool placed = false;
      for (const auto& member : *group) {
        auto found = axis_of_key.find(member);
        if (found != axis_of_key.end()) {
          axes[found->second].members.push_back(&parameter);
          axis_of_key[parameter.key] = found->second;
          placed = true;
          break;
        }
      }
      if (placed) continue;
    }
    axis_of_key[parameter.key] = axes.size();
    axes.push_back({{&parameter}});
  }
  return axes;
}

// Orders params as the parameters appear in the file.
Params InFileOrder(const SweepSpec& spec, const std::map<std::string, std::string>& chosen) {
  Params out;
  for (const auto& parameter : spec.parameters) out.emplace_back(parameter.key, chosen.at(parameter.key));
  return out;
}

std::vector<Params> GridConfigurations(const SweepSpec& spec, const std::vector<Axis>& axes) {
  std::vector<Params> out;
  std::vector<size_t> index(axes.size(), 0);
  while (true) {
    std::map<std::string, std::string> chosen;
    for (size_t a = 0; a < axes.size(); ++a) {
      for (const ParameterSpec* member : axes[a].members) chosen[member->key] = member->values[index[a]];
    }
    out.push_back(InFileOrder(spec, chosen));
    size_t a = axes.size();  // odometer: the last axis varies fastest
    while (a > 0) {
      --a;
      if (++index[a] < axes[a].members.front()->values.size()) break;
      index[a] = 0;
      if (a == 0) return out;
    }
    if (axes.empty()) return out;
  }
}

// Uniform in [0, 1) from 53 random bits: the same on every platform, unlike
// std::uniform_real_distribution.
double UnitInterval(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

size_t PickIndex(std::mt19937_64& rng, size_t n) {
  return std::min(n - 1, static_cast<size_t>(UnitInterval(rng) * static_cast<double>(n)));
}

std::string Sample(const ParameterSpec& parameter, std::mt19937_64& rng) {
  const double u = UnitInterval(rng);
  switch (parameter.distribution) {
    case Distribution::kUniform:
      return FormatShortestDouble(std::min(parameter.max, parameter.min + u * (parameter.max - parameter.min)));
    case Distribution::kLogUniform: {
      const double low = std::log(parameter.min), high = std::log(parameter.max);
      return FormatShortestDouble(std::clamp(std::exp(low + u * (high - low)), parameter.min, parameter.max));
    }
    case Distribution::kIntUniform: {
      const double span = parameter.max - parameter.min + 1.0;
      const double value = std::min(parameter.max, parameter.min + std::floor(u * span));
      return FormatShortestDouble(value);
    }
    case Distribution::kNone:
      break;
  }
  return parameter.values[std::min(parameter.values.size() - 1, static_cast<size_t>(u * parameter.values.size()))];
}

std::vector<Params> RandomConfigurations(const SweepSpec& spec, const std::vector<Axis>& axes) {
  std::mt19937_64 rng(spec.seed);
  std::vector<Params> out;
  for (int sample = 0; sample < spec.count; ++sample) {
    std::map<std::string, std::string> chosen;
    for (const auto& axis : axes) {
      if (axis.members.size() > 1) {  // a zip group: one index for all members
        const size_t index = PickIndex(rng, axis.members.front()->values.size());
        for (const ParameterSpec* member : axis.members) chosen[member->key] = member->values[index];
      } else {
        chosen[axis.members.front()->key] = Sample(*axis.members.front(), rng);
      }
    }
    out.push_back(InFileOrder(spec, chosen));
  }
  return out;
}

std::string Describe(const Params& params) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : params) parts.push_back(key + "=" + value);
  return parts.empty() ? std::string("the base settings") : JoinStrings(parts, " ");
}

// Options for one configuration: defaults, then base and params applied in
// the option table's order (so alpha_beta follows style_weight).
Result<StyleOptions> BuildOptions(const SweepSpec& spec, const Params& params, const Environment& env) {
  std::map<std::string, std::string> settings(spec.base.begin(), spec.base.end());
  for (const auto& [key, value] : params) settings[key] = value;
  StyleOptions options;
  for (const auto& option : StyleOptionSpecs()) {
    auto found = settings.find(option.key);
    if (found == settings.end()) continue;
    std::string value = found->second;
    if (found->first == "weights" && !value.empty()) {
      SS_ASSIGN_OR_RETURN(value, ResolveInputPath(value, env));
    }
    SS_RETURN_IF_ERROR(SetStyleOption(options, found->first, value));
  }
  return options;
}

std::string FileStem(const std::string& path) { return fs::path(path).stem().string(); }

// output.name with its placeholders filled: {content} and {style} from the
// given stems (the expansion computes them once per image), {key}, {index},
// {repeat} and every swept setting from the job.
std::string FillNamePattern(const std::string& pattern, const std::string& content_stem,
                            const std::string& style_stem, const std::string& job_key, int repeat,
                            const Params& params, int index) {
  std::string name = pattern;
  name = ReplaceAll(name, "{content}", content_stem);
  name = ReplaceAll(name, "{style}", style_stem);
  name = ReplaceAll(name, "{key}", ShortKey(job_key));
  name = ReplaceAll(name, "{index}", std::to_string(index));
  name = ReplaceAll(name, "{repeat}", std::to_string(repeat));
  for (const auto& [key, value] : params) name = ReplaceAll(name, "{" + key + "}", value);
  return name;
}

// Estimated work of a job with `stages` (EffectiveStages of its options) on
// `content`: sum over stages of output pixels x iterations.
double EstimateCost(const std::vector<ScaleStage>& stages, const ImageProbe& content) {
  const double long_side = std::max(content.width, content.height);
  const double short_side = std::min(content.width, content.height);
  double cost = 0.0;
  for (const auto& stage : stages) {
    const double other = std::max(1.0, std::round(stage.size * short_side / long_side));
    cost += static_cast<double>(stage.size) * other * stage.num_iterations;
  }
  return cost;
}

// A string as JSON: sha256 digests and other plain text need no escapes.
std::string JsonString(const std::string& text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\' && static_cast<unsigned char>(c) < 0x80;
  });
  return plain ? "\"" + text + "\"" : nlohmann::json(text).dump();
}

std::string JsonStringArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : ",") + JsonString(items[i]);
  return out + "]";
}

// The "options" member of CanonicalJobJson: every setting of StyleOptionsToMap
// but weights and NonIdentityKeys, keys sorted, no whitespace.
std::string IdentityOptionsJson(const StyleOptions& options) {
  nlohmann::json object = nlohmann::json::object();
  const auto& excluded = NonIdentityKeys();
  for (const auto& [key, value] : StyleOptionsToMap(options)) {
    if (key == "weights" || std::find(excluded.begin(), excluded.end(), key) != excluded.end()) continue;
    object[key] = value;
  }
  return object.dump();
}

// CanonicalJobJson assembled from its parts, in nlohmann's sorted key order,
// so that the options' text (the costly part) is built once per
// configuration. The head (up to the style digests) is what the jobs of one
// content image and repeat share, so its hash state can be reused; the tail
// is the style digests and the weights'.
std::string CanonicalJobHead(const std::string& content_sha256, const std::string& options_json, int repeat) {
  std::string out;
  out.reserve(options_json.size() + 160);
  out += "{\"content_sha256\":" + JsonString(content_sha256);
  out += ",\"options\":" + options_json;
  out += ",\"repeat\":" + std::to_string(repeat);
  out += std::string(",\"schema\":\"") + kJobSchema + "\"";
  out += ",\"style_sha256\":";
  return out;
}

std::string CanonicalJobTail(const std::vector<std::string>& style_sha256, const std::string& weights_sha256) {
  return JsonStringArray(style_sha256) + ",\"weights_sha256\":" + JsonString(weights_sha256) + "}";
}

std::string CanonicalJobText(const std::string& options_json, const JobSpec& job) {
  return CanonicalJobHead(job.content_sha256, options_json, job.repeat) +
         CanonicalJobTail(job.style_sha256, job.weights_sha256);
}

std::string StyleKey(const JobSpec& job) {
  nlohmann::json identity;
  const StyleOptions& o = job.options;
  identity["schema"] = kStyleSchema;
  for (const char* key : {"backbone", "pooling", "style_layers", "style_blend", "style_scale", "resize_filter",
                          "preserve_colors", "tf32"}) {
    identity[key] = GetStyleOption(o, key);
  }
  std::vector<int> sizes;
  for (const auto& stage : EffectiveStages(o)) sizes.push_back(stage.size);
  identity["stage_sizes"] = sizes;
  identity["weights_sha256"] = job.weights_sha256;
  identity["style_sha256"] = job.style_sha256;
  // Colour preservation adapts the style image to the content image.
  if (o.preserve_colors != "none") identity["content_sha256"] = job.content_sha256;
  return Sha256Hex(identity.dump());
}

// Caches the layer checker's answer per distinct (backbone, pooling,
// weights, layers) so that a large grid inspects each weights file once.
class CachedLayerChecker {
 public:
  CachedLayerChecker(LayerChecker checker, std::string models_dir)
      : checker_(std::move(checker)), models_dir_(std::move(models_dir)) {}

  const Result<CheckedLayers>& Check(const StyleOptions& o) {
    auto key = std::make_tuple(o.backbone, o.pooling, o.weights, JoinStrings(o.content_layers, ","), JoinStrings(o.style_layers, ","));
    auto found = cache_.find(key);
    if (found == cache_.end()) found = cache_.emplace(key, checker_(o, models_dir_)).first;
    return found->second;
  }

 private:
  LayerChecker checker_;
  std::string models_dir_;
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, Result<CheckedLayers>> cache_;
};

// The folder of dataset file `name`: fs::path's parent_path, computed
// directly for the usual names ("x" and "folder/x") without building a path.
std::string ParentFolder(std::string_view name) {
  const std::size_t slash = name.find('/');
  if (slash == std::string_view::npos) return "";
  if (slash > 0 && slash + 1 < name.size() && name.find('/', slash + 1) == std::string_view::npos) {
    return std::string(name.substr(0, slash));
  }
  return fs::path(std::string(name)).parent_path().string();
}

// Folder output: refuses more than output.max_per_folder images in one
// folder, naming the fullest and how to nest the names.
Status CheckFilesPerFolder(const SweepSpec& spec, const JobTable& jobs) {
  if (spec.output.dataset_dir.empty() || spec.output.format != "folder" || spec.output.max_per_folder <= 0) {
    return Status::Ok();
  }
  std::map<std::string, std::int64_t> per_folder;
  std::string folder;
  auto counted = per_folder.end();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    folder = ParentFolder(jobs.output_name(i));
    if (counted == per_folder.end() || counted->first != folder) counted = per_folder.try_emplace(folder, 0).first;
    ++counted->second;
  }
  auto fullest = std::max_element(per_folder.begin(), per_folder.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
  if (fullest == per_folder.end() || fullest->second <= spec.output.max_per_folder) return Status::Ok();
  return Status::InvalidArgument(
      spec.source + ": output.name '" + spec.output.name_pattern + "' puts " + std::to_string(fullest->second) +
      " images in one folder (" + (fullest->first.empty() ? "output.dataset itself" : fullest->first) +
      "), more than output.max_per_folder " + std::to_string(spec.output.max_per_folder) +
      "; nest the names (\"{style}/{content}\"), use output.format: webdataset, or raise output.max_per_folder "
      "(0: no limit)");
}

// One configuration's options, checked: built from base and params, valid,
// placeable with devices_per_job, layers resolved against the weights file.
// Errors name the swept values.
Result<StyleOptions> ConfigurationOptions(const SweepSpec& spec, const Params& params, const Environment& env,
                                          CachedLayerChecker& layers) {
  const std::string where = spec.source + ": with " + Describe(params);
  Result<StyleOptions> built = BuildOptions(spec, params, env);
  if (!built.ok()) return built.status().WithContext(where);
  StyleOptions options = std::move(built).value();
  Status valid = ValidateStyleOptions(options);
  if (!valid.ok()) return valid.WithContext(where);
  if (spec.devices_per_job > 1 && options.optimizer != "lbfgs") {
    return Status::InvalidArgument(where + ": devices_per_job " + std::to_string(spec.devices_per_job) +
                                   " runs each job as a band split, which supports optimizer lbfgs only, not '" +
                                   options.optimizer + "'");
  }
  if (spec.devices_per_job > 1 && options.device != "cpu" && options.device != "cuda") {
    return Status::InvalidArgument(where + ": devices_per_job " + std::to_string(spec.devices_per_job) +
                                   " needs device cpu or cuda (each rank of a job's group takes its own GPU), not '" +
                                   options.device + "'");
  }
  if (spec.bands_across_nodes && spec.devices_per_job > 1 && options.device != "cpu") {
    return Status::InvalidArgument(where + ": bands_across_nodes lets a band split's ranks sit on different nodes, "
                                   "which needs device cpu (its MPI collectives cross hosts; a CUDA band split uses "
                                   "NCCL on one node), not '" + options.device + "'");
  }
  const Result<CheckedLayers>& checked = layers.Check(options);
  if (!checked.ok()) return checked.status().WithContext(where);
  options.weights = checked->weights_path;
  options.content_layers = checked->content_layers;
  options.style_layers = checked->style_layers;
  if (!options.style_layer_weights.empty() && options.style_layer_weights.size() != options.style_layers.size()) {
    return Status::InvalidArgument(where + ": style_layer_weights has " +
                                   std::to_string(options.style_layer_weights.size()) + " values for " +
                                   std::to_string(options.style_layers.size()) + " style layers");
  }
  return options;
}

// Collects the jobs of every configuration into a JobTable: content x style
// set x repeat, first of each job key kept. Work that depends only on a
// configuration, a repeat or a style set (the identity options' text, the
// stages, style keys, file stems) is done once per distinct value, not once
// per job, and no JobSpec is kept per job.
//
// Two jobs have the same key exactly when their canonical texts agree, i.e.
// when their content digests, style digests and (repeat, identity options,
// weights digest) all agree. Jobs are collected configuration by
// configuration, then content, style set and repeat, so a job repeats an
// earlier one exactly when its content image is not the first with its
// digest, or its style set not the first with its digests, or its
// configuration and repeat not the first with their identity: three small
// sets decide it, not a set of every job's key.
class JobCollector {
 public:
  // `expected_jobs`: how many jobs the sweep expands to at most (room is made for them).
  JobCollector(const SweepSpec& spec, const std::vector<ImageFile>& contents,
               const std::vector<std::vector<ImageFile>>& style_sets, std::size_t expected_jobs)
      : spec_(spec), contents_(contents), style_sets_(style_sets) {
    const bool named = !spec.output.dataset_dir.empty();
    table_.Reserve(expected_jobs, named);
    if (named) output_names_.Reserve(expected_jobs);
    std::unordered_set<std::string> content_digests;
    for (const ImageFile& content : contents) {
      content_stems_.push_back(FileStem(content.path));
      first_content_.push_back(content_digests.insert(content.sha256).second);
      table_.AddContent(JobTable::Image{content.path, content.sha256, content.probe.width, content.probe.height});
    }
    std::set<std::vector<std::string>> style_digests;
    for (const auto& styles : style_sets) {
      std::vector<std::string> stems;
      std::vector<std::string> digests;
      std::vector<JobTable::Image> images;
      for (const ImageFile& style : styles) {
        stems.push_back(FileStem(style.path));
        digests.push_back(style.sha256);
        images.push_back(JobTable::Image{style.path, style.sha256, style.probe.width, style.probe.height});
      }
      style_stems_.push_back(JoinStrings(stems, "+"));
      first_style_set_.push_back(style_digests.insert(digests).second);
      style_digests_.push_back(std::move(digests));
      table_.AddStyleSet(std::move(images));
    }
  }

  Status AddConfiguration(const Params& params, const StyleOptions& base_options, const std::string& weights_sha) {
    for (const auto& styles : style_sets_) {
      if (!base_options.style_blend.empty() && base_options.style_blend.size() != styles.size()) {
        return Status::InvalidArgument(spec_.source + ": with " + Describe(params) + ": style_blend has " +
                                       std::to_string(base_options.style_blend.size()) + " weights for " +
                                       std::to_string(styles.size()) + " style images");
      }
    }
    const std::vector<ScaleStage> stages = EffectiveStages(base_options);
    std::vector<std::uint32_t> settings;
    std::vector<std::string> options_json;
    std::vector<bool> first_identity;  // per repeat
    for (int repeat = 0; repeat < spec_.repeats; ++repeat) {
      JobTable::Setting setting{base_options, params, weights_sha, repeat};
      setting.options.seed = base_options.seed + static_cast<std::uint64_t>(repeat);
      options_json.push_back(IdentityOptionsJson(setting.options));
      first_identity.push_back(identities_.insert({repeat, options_json.back(), weights_sha}).second);
      settings.push_back(table_.AddSetting(std::move(setting)));
    }
    std::vector<std::string> tails;  // per style set
    for (const std::vector<std::string>& digests : style_digests_) tails.push_back(CanonicalJobTail(digests, weights_sha));
    // Style keys do not depend on the seed: one per style set, or per job
    // with preserve_colors (the style is matched to the content).
    std::vector<std::optional<std::uint32_t>> style_keys(style_sets_.size());
    std::vector<Sha256> heads(static_cast<std::size_t>(spec_.repeats));  // per repeat, of the content at hand
    Sha256 text;
    for (std::size_t c = 0; c < contents_.size(); ++c) {
      if (!first_content_[c]) continue;
      const double cost = EstimateCost(stages, contents_[c].probe);
      for (int repeat = 0; repeat < spec_.repeats; ++repeat) {
        heads[repeat] = Sha256();
        heads[repeat].Update(CanonicalJobHead(contents_[c].sha256, options_json[repeat], repeat));
      }
      for (std::size_t s = 0; s < style_sets_.size(); ++s) {
        if (!first_style_set_[s]) continue;
        for (int repeat = 0; repeat < spec_.repeats; ++repeat) {
          if (!first_identity[repeat]) continue;
          text = heads[repeat];
          text.Update(tails[s]);
          const std::string job_key = text.HexDigest();
          std::uint32_t style_key = 0;
          if (base_options.preserve_colors != "none" || !style_keys[s]) {
            JobSpec job;  // what StyleKey reads
            job.options = base_options;
            job.content_sha256 = contents_[c].sha256;
            job.style_sha256 = style_digests_[s];
            job.weights_sha256 = weights_sha;
            style_key = table_.AddStyleKey(StyleKey(job));
            if (base_options.preserve_colors == "none") style_keys[s] = style_key;
          } else {
            style_key = *style_keys[s];
          }
          const int index = static_cast<int>(table_.size());
          const bool named = !spec_.output.dataset_dir.empty();
          table_.AddJob(settings[repeat], static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(s), style_key,
                        job_key, cost, index,
                        named ? FillNamePattern(spec_.output.name_pattern, content_stems_[c], style_stems_[s],
                                                job_key, repeat, params, index)
                              : std::string());
          if (named) SS_RETURN_IF_ERROR(CheckNameUnique(static_cast<std::uint32_t>(index)));
        }
      }
    }
    return Status::Ok();
  }

  JobTable TakeTable() { return std::move(table_); }

 private:
  // kInvalidArgument when job `index`'s output name is an earlier job's.
  Status CheckNameUnique(std::uint32_t index) {
    auto name_of = [this](std::uint32_t job) { return table_.output_name(job); };
    if (output_names_.Insert(index, name_of) == index) return Status::Ok();
    return Status::InvalidArgument(spec_.source + ": output.name '" + spec_.output.name_pattern +
                                   "' gives two jobs the file name '" + std::string(name_of(index)) +
                                   "'; add {key}, {repeat} or a swept setting such as {alpha_beta} to make it unique");
  }

  const SweepSpec& spec_;
  const std::vector<ImageFile>& contents_;
  const std::vector<std::vector<ImageFile>>& style_sets_;
  std::vector<std::string> content_stems_;
  std::vector<std::string> style_stems_;  // per style set, "+"-joined
  std::vector<std::vector<std::string>> style_digests_;  // per style set
  JobTable table_;
  std::vector<bool> first_content_;    // per content image: the first with its digest
  std::vector<bool> first_style_set_;  // per style set: the first with its digests
  std::set<std::tuple<int, std::string, std::string>> identities_;  // (repeat, identity options, weights digest) seen
  TextIndex output_names_;  // jobs by output name
};

}  // namespace

const std::vector<std::string>& NonIdentityKeys() {
  static const std::vector<std::string> keys = {"device", "channels_last", "save_every"};
  return keys;
}

std::string ShortKey(const std::string& key) { return key.substr(0, 12); }

std::string DatasetFileName(const std::string& pattern, const JobSpec& job) {
  std::vector<std::string> stems;
  for (const auto& path : job.style_paths) stems.push_back(FileStem(path));
  return FillNamePattern(pattern, FileStem(job.content_path), JoinStrings(stems, "+"), job.job_key, job.repeat,
                         job.params, job.index);
}

std::string CanonicalJobJson(const JobSpec& job) { return CanonicalJobText(IdentityOptionsJson(job.options), job); }

Result<std::vector<JobSpec>> ExpandSweep(const SweepSpec& spec, const ExpandContext& context) {
  SS_ASSIGN_OR_RETURN(JobTable table, ExpandSweepTable(spec, context));
  return table.AllJobs();
}

Result<JobTable> ExpandSweepTable(const SweepSpec& spec, const ExpandContext& context) {
  if (!context.layer_checker) return Status::Internal("ExpandSweep needs a layer checker");
  Environment env;
  env.shared_dir = context.shared_dir.empty() ? ResolveSharedDir() : context.shared_dir;
  env.models_dir = context.models_dir.empty() ? env.shared_dir + "/models" : context.models_dir;
  env.sweep_dir = spec.base_dir;
  std::unique_ptr<FileHasher> own_hasher;
  FileHasher* hasher = context.hasher;
  if (hasher == nullptr) {
    own_hasher = std::make_unique<FileHasher>();
    hasher = own_hasher.get();
  }

  // Images: every problem at once.
  ImageResolver resolver(env, *hasher, spec.source);
  resolver.SkipUnreadable(spec.skip_unreadable);
  std::vector<ImageFile> contents;
  std::set<std::string> seen_content;
  for (const auto& pattern : spec.content) {
    for (auto& file : resolver.Resolve(pattern, "content", SourceMark{})) {
      if (seen_content.insert(file.path).second) contents.push_back(std::move(file));
    }
  }
  std::vector<std::vector<ImageFile>> style_sets;
  for (const auto& entry : spec.style) {
    std::vector<ImageFile> blended;
    for (const auto& pattern : entry.patterns) {
      for (auto& file : resolver.Resolve(pattern, "style", entry.mark, !entry.blend)) {
        if (entry.blend) blended.push_back(std::move(file));
        else style_sets.push_back({std::move(file)});
      }
    }
    if (entry.blend && !blended.empty()) style_sets.push_back(std::move(blended));
  }
  SS_RETURN_IF_ERROR(resolver.Problems().WithContext(spec.source));
  const std::vector<SkippedImage> skipped = resolver.Skipped();
  if (context.skipped != nullptr) *context.skipped = skipped;
  if (!skipped.empty() && (contents.empty() || style_sets.empty())) {
    return Status::NotFound(spec.source + ": skip_unreadable left out " + std::to_string(skipped.size()) +
                            " unreadable image" + (skipped.size() == 1 ? "" : "s") + " (the first: " +
                            skipped.front().path + ": " + skipped.front().reason + ") and no " +
                            (contents.empty() ? "content image" : "style image") + " is left to run");
  }

  // Parameter configurations, refusing runaway sizes before building them.
  const std::vector<Axis> axes = BuildAxes(spec);
  double configurations = spec.method == SweepMethod::kRandom ? spec.count : 1.0;
  if (spec.method == SweepMethod::kGrid) {
    for (const auto& axis : axes) configurations *= static_cast<double>(axis.members.front()->values.size());
  }
  const double total = configurations * contents.size() * style_sets.size() * spec.repeats;
  if (total > static_cast<double>(kMaxSweepJobs)) {
    return Status::InvalidArgument(spec.source + ": the sweep expands to " + FormatShortestDouble(total) +
                                   " jobs, more than the limit of " + std::to_string(kMaxSweepJobs) +
                                   "; narrow the grid or use method: random with a count");
  }
  const std::vector<Params> configs =
      spec.method == SweepMethod::kGrid ? GridConfigurations(spec, axes) : RandomConfigurations(spec, axes);

  CachedLayerChecker layers(context.layer_checker, env.models_dir);
  JobCollector collector(spec, contents, style_sets, static_cast<std::size_t>(total));
  for (const Params& params : configs) {
    SS_ASSIGN_OR_RETURN(StyleOptions base_options, ConfigurationOptions(spec, params, env, layers));
    Result<std::string> weights_sha = hasher->Hash(base_options.weights);
    if (!weights_sha.ok()) return weights_sha.status().WithContext(spec.source + ": weights");
    SS_RETURN_IF_ERROR(collector.AddConfiguration(params, base_options, *weights_sha));
  }
  JobTable jobs = collector.TakeTable();
  SS_RETURN_IF_ERROR(CheckFilesPerFolder(spec, jobs));
  return jobs;
}

}  // namespace stylesweep
