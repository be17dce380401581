// ParseSweep, LoadSweepFile and ApplySweepOverride: YAML text -> SweepSpec.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "common/shared_dir.h"
#include "experiments/sweep.h"
#include "common/text.h"

namespace stylesweep {
namespace {

const std::vector<std::string> kTopLevelKeys = {
    "name",   "description",     "method",             "count",          "seed",  "parameters", "content", "style",
    "base",   "zip",             "repeats",            "output",         "metric",
    "devices_per_job",           "bands_across_nodes", "skip_unreadable"};
const std::vector<std::string> kParameterKeys = {"values", "value", "distribution", "min", "max"};
const std::vector<std::string> kOutputKeys = {"dataset", "name", "keep", "format", "shard_size", "include_content",
                                              "max_per_folder"};
const std::vector<std::string> kMetricKeys = {"name", "goal", "top"};
const std::vector<std::string> kDistributionNames = {"uniform", "log_uniform", "int_uniform"};
const std::vector<std::string> kSweepLevelOverrides = {"repeats", "count", "sampling_seed", "method",
                                                       "devices_per_job", "bands_across_nodes", "skip_unreadable"};
constexpr int kMaxRepeats = 100000;

bool IsListType(OptionType type) {
  return type == OptionType::kStringList || type == OptionType::kNumberList || type == OptionType::kScales;
}

// Parses YAML nodes into a SweepSpec, prefixing every message with
// "source:line:col: ".
class SweepParser {
 public:
  explicit SweepParser(std::string source) : source_(std::move(source)) {}

  Status ErrorAt(const YAML::Node& node, const std::string& message) const {
    YAML::Mark mark = node.Mark();
    return ErrorAt(SourceMark{mark.line + 1, mark.column + 1}, message);
  }
  Status ErrorAt(const SourceMark& mark, const std::string& message) const {
    if (mark.line <= 0) return Status::InvalidArgument(source_ + ": " + message);
    return Status::InvalidArgument(source_ + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) +
                                   ": " + message);
  }

  static SourceMark MarkOf(const YAML::Node& node) {
    YAML::Mark mark = node.Mark();
    return {mark.line + 1, mark.column + 1};
  }

  // "unknown key" naming the closest allowed key; at the top level, an
  // engine setting (or a key closer to one than to any top-level key) is
  // pointed to base: or parameters:.
  static std::string UnknownKeyMessage(const std::string& key, const std::vector<std::string>& allowed,
                                       const std::string& where) {
    const std::string closest = ClosestWord(key, allowed);
    if (&allowed == &kTopLevelKeys) {
      if (FindStyleOption(key) != nullptr) {
        return "'" + key + "' is an engine setting: put it under base: (fixed) or parameters: (swept)";
      }
      const std::string setting = ClosestStyleOptionKey(key);
      if (EditDistance(key, setting) < EditDistance(key, closest)) {
        return where + ": unknown key '" + key + "' (did you mean the engine setting '" + setting +
               "'? put it under base: (fixed) or parameters: (swept))";
      }
    }
    return where + ": unknown key '" + key + "' (did you mean '" + closest + "'?)";
  }

  // Checks every key of `map` is in `allowed` and none repeats.
  Status CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& where) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) return ErrorAt(it->first, where + ": keys must be plain names");
      const std::string key = it->first.Scalar();
      if (!seen.insert(key).second) return ErrorAt(it->first, where + ": '" + key + "' is given twice");
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      return ErrorAt(it->first, UnknownKeyMessage(key, allowed, where));
    }
    return Status::Ok();
  }

  Result<std::string> Scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) return ErrorAt(node, what + " must be a single value");
    return node.Scalar();
  }

  // `true` or `false`; anything else is an error at the node naming `what`.
  Result<bool> Boolean(const YAML::Node& node, const std::string& what) const {
    SS_ASSIGN_OR_RETURN(std::string text, Scalar(node, what));
    if (text != "true" && text != "false") return ErrorAt(node, what + " must be true or false, not '" + text + "'");
    return text == "true";
  }

  Result<long long> Integer(const YAML::Node& node, const std::string& what, long long min, long long max) const {
    SS_ASSIGN_OR_RETURN(std::string text, Scalar(node, what));
    std::istringstream in(text);
    long long value = 0;
    if (!(in >> value) || !in.eof() || value < min || value > max) {
      return ErrorAt(node, what + " must be a whole number in " + std::to_string(min) + ".." + std::to_string(max) +
                               ", not '" + text + "'");
    }
    return value;
  }

  Result<double> Number(const YAML::Node& node, const std::string& what) const {
    SS_ASSIGN_OR_RETURN(std::string text, Scalar(node, what));
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
      return ErrorAt(node, what + " must be a number, not '" + text + "'");
    }
    return value;
  }

  // A setting's value as SetStyleOption text: a scalar, or a list of scalars
  // joined by commas. Checked against the setting's type.
  Result<std::string> SettingValue(const std::string& key, const YAML::Node& node) const {
    std::string text;
    if (node.IsNull()) return ErrorAt(node, "'" + key + "' has no value");
    if (node.IsScalar()) {
      text = node.Scalar();
    } else if (node.IsSequence()) {
      std::vector<std::string> items;
      for (const auto& item : node) {
        if (!item.IsScalar()) return ErrorAt(item, "'" + key + "': list items must be single values");
        items.push_back(item.Scalar());
      }
      text = JoinStrings(items, ",");
    } else {
      return ErrorAt(node, "'" + key + "' must be a value or a list of values");
    }
    StyleOptions scratch;
    Status checked = SetStyleOption(scratch, key, text);
    if (!checked.ok()) return ErrorAt(node, checked.message());
    return text;
  }

  Status CheckSettingKey(const YAML::Node& key_node, const std::string& where) const {
    const std::string key = key_node.Scalar();
    if (FindStyleOption(key) != nullptr) return Status::Ok();
    return ErrorAt(key_node, where + ": unknown setting '" + key + "' (did you mean '" + ClosestStyleOptionKey(key) +
                                 "'?)");
  }

  Result<ParameterSpec> Parameter(const YAML::Node& key_node, const YAML::Node& body) const {
    ParameterSpec parameter;
    parameter.key = key_node.Scalar();
    parameter.mark = MarkOf(key_node);
    const std::string where = "parameter '" + parameter.key + "'";
    if (!body.IsMap()) {
      return ErrorAt(body, where + " must be a map: {values: [...]}, {value: x} or {distribution: ..., min: a, max: b}");
    }
    SS_RETURN_IF_ERROR(CheckKeys(body, kParameterKeys, where));
    const bool has_values = body["values"].IsDefined(), has_value = body["value"].IsDefined();
    const bool has_distribution = body["distribution"].IsDefined();
    if (has_values + has_value + has_distribution != 1) {
      return ErrorAt(body, where + " needs exactly one of values, value or distribution");
    }
    if (!has_distribution && (body["min"].IsDefined() || body["max"].IsDefined())) {
      return ErrorAt(body, where + ": min and max go with a distribution");
    }
    if (has_value) {
      SS_ASSIGN_OR_RETURN(std::string text, SettingValue(parameter.key, body["value"]));
      parameter.values.push_back(text);
      return parameter;
    }
    if (has_values) {
      const YAML::Node values = body["values"];
      if (!values.IsSequence() || values.size() == 0) return ErrorAt(values, where + ": values must be a non-empty list");
      for (const auto& item : values) {
        SS_ASSIGN_OR_RETURN(std::string text, SettingValue(parameter.key, item));
        parameter.values.push_back(text);
      }
      return parameter;
    }
    const YAML::Node kind = body["distribution"];
    SS_ASSIGN_OR_RETURN(std::string name, Scalar(kind, where + ": distribution"));
    if (name == "uniform") parameter.distribution = Distribution::kUniform;
    else if (name == "log_uniform") parameter.distribution = Distribution::kLogUniform;
    else if (name == "int_uniform") parameter.distribution = Distribution::kIntUniform;
    else {
      return ErrorAt(kind, where + ": unknown distribution '" + name + "' (did you mean '" +
                               ClosestWord(name, kDistributionNames) + "'? one of " + JoinStrings(kDistributionNames, ", ") + ")");
    }
    const OptionSpec* spec = FindStyleOption(parameter.key);
    if (spec->type != OptionType::kNumber && spec->type != OptionType::kInt) {
      return ErrorAt(kind, where + ": a distribution needs a numeric setting; use values: [...] instead");
    }
    if (spec->type == OptionType::kInt && parameter.distribution != Distribution::kIntUniform) {
      return ErrorAt(kind, where + " takes whole numbers: use distribution: int_uniform");
    }
    if (!body["min"].IsDefined() || !body["max"].IsDefined()) return ErrorAt(body, where + ": a distribution needs min and max");
    SS_ASSIGN_OR_RETURN(parameter.min, Number(body["min"], where + ": min"));
    SS_ASSIGN_OR_RETURN(parameter.max, Number(body["max"], where + ": max"));
    if (parameter.min > parameter.max) return ErrorAt(body["min"], where + ": min is greater than max");
    if (parameter.distribution == Distribution::kLogUniform && parameter.min <= 0) {
      return ErrorAt(body["min"], where + ": log_uniform needs min > 0");
    }
    if (parameter.distribution == Distribution::kIntUniform &&
        (parameter.min != std::floor(parameter.min) || parameter.max != std::floor(parameter.max))) {
      return ErrorAt(body["min"], where + ": int_uniform needs whole-number min and max");
    }
    StyleOptions scratch;  // both bounds must be acceptable values of the setting
    for (double bound : {parameter.min, parameter.max}) {
      std::ostringstream text;
      text.precision(17);
      text << bound;
      Status checked = SetStyleOption(scratch, parameter.key, text.str());
      if (!checked.ok()) return ErrorAt(body, where + ": " + checked.message());
    }
    return parameter;
  }

  Result<std::vector<std::string>> Patterns(const YAML::Node& node, const std::string& what) const {
    std::vector<std::string> out;
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
    } else if (node.IsSequence()) {
      for (const auto& item : node) {
        if (!item.IsScalar()) return ErrorAt(item, what + ": each entry must be a file, folder or glob");
        out.push_back(item.Scalar());
      }
    } else {
      return ErrorAt(node, what + " must be a file, folder or glob, or a list of them");
    }
    if (out.empty()) return ErrorAt(node, what + " is empty");
    for (const auto& pattern : out) {
      if (Trim(pattern).empty()) return ErrorAt(node, what + ": empty path");
    }
    return out;
  }

  Result<SweepSpec> Parse(const YAML::Node& root) const {
    SweepSpec spec;
    spec.source = source_;
    if (!root.IsMap()) return ErrorAt(root, "a sweep file must be a map of keys (name:, method:, parameters:, ...)");
    SS_RETURN_IF_ERROR(CheckKeys(root, kTopLevelKeys, "sweep"));
    SS_RETURN_IF_ERROR(ParseHeader(root, spec));
    SS_RETURN_IF_ERROR(ParseSettings(root, spec));
    SS_RETURN_IF_ERROR(ParseZip(root, spec));
    SS_RETURN_IF_ERROR(ParseImages(root, spec));
    if (root["output"].IsDefined()) SS_RETURN_IF_ERROR(ParseOutput(root["output"], spec.output));
    if (root["metric"].IsDefined()) SS_RETURN_IF_ERROR(ParseMetric(root["metric"], spec.metric));
    return spec;
  }

  // name, description, method, count, seed, repeats, devices_per_job,
  // bands_across_nodes and skip_unreadable.
  Status ParseHeader(const YAML::Node& root, SweepSpec& spec) const {
    if (!root["name"].IsDefined()) return ErrorAt(SourceMark{}, "the sweep needs a name:");
    SS_ASSIGN_OR_RETURN(spec.name, Scalar(root["name"], "name"));
    if (Trim(spec.name).empty()) return ErrorAt(root["name"], "name is empty");
    if (root["description"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(spec.description, Scalar(root["description"], "description"));
    }
    if (root["method"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(std::string method, Scalar(root["method"], "method"));
      if (method == "grid") spec.method = SweepMethod::kGrid;
      else if (method == "random") spec.method = SweepMethod::kRandom;
      else return ErrorAt(root["method"], "method must be grid or random, not '" + method + "'");
    }
    if (root["count"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(spec.count, Integer(root["count"], "count", 1, kMaxSweepJobs));
    }
    if (root["seed"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(long long seed, Integer(root["seed"], "seed", 0, std::numeric_limits<long long>::max()));
      spec.seed = static_cast<std::uint64_t>(seed);
    }
    if (root["repeats"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(spec.repeats, Integer(root["repeats"], "repeats", 1, kMaxRepeats));
    }
    if (root["devices_per_job"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(spec.devices_per_job,
                          Integer(root["devices_per_job"], "devices_per_job", 1, kMaxDevicesPerJob));
    }
    if (root["bands_across_nodes"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(spec.bands_across_nodes, Boolean(root["bands_across_nodes"], "bands_across_nodes"));
    }
    if (root["skip_unreadable"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(spec.skip_unreadable, Boolean(root["skip_unreadable"], "skip_unreadable"));
    }
    return Status::Ok();
  }

  // base: (fixed settings) and parameters: (swept ones); a key in both is refused.
  Status ParseSettings(const YAML::Node& root, SweepSpec& spec) const {
    if (root["base"].IsDefined()) {
      const YAML::Node base = root["base"];
      if (!base.IsMap()) return ErrorAt(base, "base must be a map of engine settings");
      SS_RETURN_IF_ERROR(CheckKeys(base, SettingKeys(), "base"));
      for (auto it = base.begin(); it != base.end(); ++it) {
        SS_ASSIGN_OR_RETURN(std::string text, SettingValue(it->first.Scalar(), it->second));
        spec.base.emplace_back(it->first.Scalar(), text);
      }
    }
    if (!root["parameters"].IsDefined()) return Status::Ok();
    const YAML::Node parameters = root["parameters"];
    if (!parameters.IsMap()) return ErrorAt(parameters, "parameters must be a map of engine settings");
    SS_RETURN_IF_ERROR(CheckKeys(parameters, SettingKeys(), "parameters"));
    for (auto it = parameters.begin(); it != parameters.end(); ++it) {
      for (const auto& fixed : spec.base) {
        if (fixed.first == it->first.Scalar()) {
          return ErrorAt(it->first, "'" + fixed.first + "' is both in base and in parameters; keep one");
        }
      }
      SS_ASSIGN_OR_RETURN(ParameterSpec parameter, Parameter(it->first, it->second));
      spec.parameters.push_back(std::move(parameter));
    }
    return Status::Ok();
  }

  // zip: [[key_a, key_b], ...]; the names are checked later, by Check.
  Status ParseZip(const YAML::Node& root, SweepSpec& spec) const {
    if (!root["zip"].IsDefined()) return Status::Ok();
    const YAML::Node zip = root["zip"];
    if (!zip.IsSequence()) return ErrorAt(zip, "zip must be a list of groups: [[key_a, key_b], ...]");
    for (const auto& group : zip) {
      if (!group.IsSequence()) return ErrorAt(group, "each zip group must be a list of parameter names");
      std::vector<std::string> keys;
      for (const auto& key : group) {
        SS_ASSIGN_OR_RETURN(std::string name, Scalar(key, "zip group entry"));
        keys.push_back(name);
      }
      spec.zip.push_back(keys);
      zip_marks_.push_back(MarkOf(group));
    }
    return Status::Ok();
  }

  // content: and style: (a list inside style: is one blend).
  Status ParseImages(const YAML::Node& root, SweepSpec& spec) const {
    if (!root["content"].IsDefined()) return ErrorAt(SourceMark{}, "the sweep needs content: (files, folders or globs)");
    SS_ASSIGN_OR_RETURN(spec.content, Patterns(root["content"], "content"));
    if (!root["style"].IsDefined()) return ErrorAt(SourceMark{}, "the sweep needs style: (files, folders or globs)");
    const YAML::Node style = root["style"];
    if (style.IsScalar()) {
      spec.style.push_back({{style.Scalar()}, false, MarkOf(style)});
    } else if (style.IsSequence() && style.size() > 0) {
      for (const auto& entry : style) {
        StyleEntry parsed;
        parsed.mark = MarkOf(entry);
        parsed.blend = entry.IsSequence();
        SS_ASSIGN_OR_RETURN(parsed.patterns, Patterns(entry, parsed.blend ? "style blend" : "style"));
        spec.style.push_back(std::move(parsed));
      }
    } else {
      return ErrorAt(style, "style must be a file, folder or glob, or a list of them ([a, b] inside the list blends)");
    }
    return Status::Ok();
  }

  // output: {dataset, name, keep, format, shard_size, include_content, max_per_folder}.
  Status ParseOutput(const YAML::Node& output, OutputSpec& out) const {
    if (!output.IsMap()) return ErrorAt(output, "output must be a map: {dataset: FOLDER, name: \"{content}_{style}\"}");
    SS_RETURN_IF_ERROR(CheckKeys(output, kOutputKeys, "output"));
    if (output["dataset"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.dataset_dir, Scalar(output["dataset"], "output.dataset"));
    }
    if (output["name"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.name_pattern, Scalar(output["name"], "output.name"));
    }
    if (Trim(out.name_pattern).empty()) return ErrorAt(output, "output.name is empty");
    if (output["keep"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.keep, Scalar(output["keep"], "output.keep"));
      if (Trim(out.keep).empty()) return ErrorAt(output["keep"], "output.keep is empty");
      if (out.dataset_dir.empty()) {
        return ErrorAt(output["keep"], "output.keep chooses the images of output.dataset; give output.dataset too");
      }
    }
    const std::string& name = out.name_pattern;
    if (name.front() == '/' || name.back() == '/' || name.find("//") != std::string::npos ||
        ("/" + name + "/").find("/../") != std::string::npos || ("/" + name + "/").find("/./") != std::string::npos) {
      return ErrorAt(output["name"], "output.name '" + name + "' must be a relative path inside output.dataset "
                                     "(no leading or trailing '/', no empty, '.' or '..' parts)");
    }
    if (output["format"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.format, Scalar(output["format"], "output.format"));
      if (out.format != "folder" && out.format != "webdataset") {
        return ErrorAt(output["format"], "output.format must be folder or webdataset, not '" + out.format + "'");
      }
    }
    if (output["shard_size"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.shard_size, Integer(output["shard_size"], "output.shard_size", 1, 1000000));
    }
    if (output["include_content"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.include_content, Boolean(output["include_content"], "output.include_content"));
    }
    if (output["max_per_folder"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.max_per_folder,
                          Integer(output["max_per_folder"], "output.max_per_folder", 0, kMaxSweepJobs));
    }
    if (out.format != "webdataset" && (output["shard_size"].IsDefined() || output["include_content"].IsDefined())) {
      return ErrorAt(output, "output.shard_size and output.include_content apply to output.format: webdataset only");
    }
    return Status::Ok();
  }

  // metric: {name, goal: minimize|maximize, top}.
  Status ParseMetric(const YAML::Node& metric, MetricSpec& out) const {
    if (!metric.IsMap()) return ErrorAt(metric, "metric must be a map: {name: total_loss, goal: minimize, top: 5}");
    SS_RETURN_IF_ERROR(CheckKeys(metric, kMetricKeys, "metric"));
    if (metric["name"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.name, Scalar(metric["name"], "metric.name"));
    }
    if (metric["goal"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(std::string goal, Scalar(metric["goal"], "metric.goal"));
      if (goal != "minimize" && goal != "maximize") {
        return ErrorAt(metric["goal"], "metric.goal must be minimize or maximize, not '" + goal + "'");
      }
      out.minimize = goal == "minimize";
    }
    if (metric["top"].IsDefined()) {
      SS_ASSIGN_OR_RETURN(out.top, Integer(metric["top"], "metric.top", 1, 100000));
    }
    return Status::Ok();
  }

  // Relations between keys, checked after the overrides are applied.
  Status Check(const SweepSpec& spec) const {
    if (spec.method == SweepMethod::kRandom && spec.count <= 0) {
      return ErrorAt(SourceMark{}, "method: random needs count: (the number of samples)");
    }
    if (spec.method == SweepMethod::kGrid && spec.count > 0) {
      return ErrorAt(SourceMark{}, "count applies to method: random; a grid runs every combination");
    }
    bool has_alpha_beta = false, has_content_weight = false;
    auto note_key = [&](const std::string& key) {
      has_alpha_beta |= key == "alpha_beta";
      has_content_weight |= key == "content_weight";
    };
    for (const auto& fixed : spec.base) note_key(fixed.first);
    for (const auto& parameter : spec.parameters) {
      note_key(parameter.key);
      if (parameter.distribution != Distribution::kNone && spec.method == SweepMethod::kGrid) {
        return ErrorAt(parameter.mark, "parameter '" + parameter.key +
                                           "' has a distribution, which needs method: random (a grid needs values)");
      }
    }
    if (has_alpha_beta && has_content_weight) {
      return ErrorAt(SourceMark{}, "alpha_beta sets content_weight (= alpha_beta * style_weight); give one of them, not both");
    }
    std::set<std::string> zipped;
    for (size_t g = 0; g < spec.zip.size(); ++g) {
      const auto& group = spec.zip[g];
      const SourceMark mark = g < zip_marks_.size() ? zip_marks_[g] : SourceMark{};
      const std::string name = "zip group [" + JoinStrings(group, ", ") + "]";
      if (group.size() < 2) return ErrorAt(mark, name + " needs at least two parameters");
      std::vector<std::string> lengths;
      size_t first_length = 0;
      bool equal = true;
      for (const auto& key : group) {
        if (!zipped.insert(key).second) return ErrorAt(mark, name + ": '" + key + "' is in more than one zip group");
        auto found = std::find_if(spec.parameters.begin(), spec.parameters.end(),
                                  [&](const ParameterSpec& p) { return p.key == key; });
        if (found == spec.parameters.end()) {
          std::vector<std::string> names;
          for (const auto& p : spec.parameters) names.push_back(p.key);
          return ErrorAt(mark, name + ": '" + key + "' is not a parameter" +
                                   (names.empty() ? std::string() : " (did you mean '" + ClosestWord(key, names) + "'?)"));
        }
        if (found->distribution != Distribution::kNone) {
          return ErrorAt(mark, name + ": '" + key + "' has a distribution; zipped parameters need values");
        }
        if (lengths.empty()) first_length = found->values.size();
        equal &= found->values.size() == first_length;
        lengths.push_back(key + " has " + std::to_string(found->values.size()));
      }
      if (!equal) return ErrorAt(mark, name + ": values lists must have equal lengths (" + JoinStrings(lengths, ", ") + ")");
    }
    return Status::Ok();
  }

  static const std::vector<std::string>& SettingKeys() {
    static const std::vector<std::string> keys = [] {
      std::vector<std::string> out;
      for (const auto& spec : StyleOptionSpecs()) out.push_back(spec.key);
      return out;
    }();
    return keys;
  }

 private:
  std::string source_;
  mutable std::vector<SourceMark> zip_marks_;
};

// Splits an override's value text into alternatives (see sweep.h).
std::vector<std::string> SplitAlternatives(const std::string& text, bool list_valued) {
  std::vector<std::string> out;
  std::string item;
  std::stringstream stream(text);
  while (std::getline(stream, item, list_valued ? ';' : ',')) {
    item = Trim(item);
    if (list_valued && item.size() >= 2 && item.front() == '[' && item.back() == ']') {
      item = Trim(item.substr(1, item.size() - 2));
    }
    out.push_back(item);
  }
  if (!text.empty() && (text.back() == ',' || text.back() == ';')) out.push_back("");
  return out;
}

}  // namespace

Status ApplySweepOverride(SweepSpec& spec, const std::string& override_text) {
  const auto equals = override_text.find('=');
  const std::string key = Trim(override_text.substr(0, equals));
  auto bad = [&](const std::string& message) {
    return Status::InvalidArgument("override '" + override_text + "': " + message);
  };
  if (equals == std::string::npos || key.empty()) return bad("expected key=value or key=v1,v2");
  const std::string value = Trim(override_text.substr(equals + 1));
  if (value.empty()) return bad("no value after '='");

  if (std::find(kSweepLevelOverrides.begin(), kSweepLevelOverrides.end(), key) != kSweepLevelOverrides.end()) {
    if (key == "skip_unreadable" || key == "bands_across_nodes") {
      if (value != "true" && value != "false") return bad(key + " must be true or false");
      (key == "skip_unreadable" ? spec.skip_unreadable : spec.bands_across_nodes) = value == "true";
      return Status::Ok();
    }
    if (key == "method") {
      if (value != "grid" && value != "random") return bad("method must be grid or random");
      spec.method = value == "grid" ? SweepMethod::kGrid : SweepMethod::kRandom;
      return Status::Ok();
    }
    std::istringstream in(value);
    long long number = 0;
    if (!(in >> number) || !in.eof() || number < (key == "sampling_seed" ? 0 : 1)) {
      return bad(key + " must be a " + (key == "sampling_seed" ? "non-negative" : "positive") + " whole number");
    }
    if (key == "repeats") {
      if (number > kMaxRepeats) return bad("at most " + std::to_string(kMaxRepeats) + " repeats");
      spec.repeats = static_cast<int>(number);
    } else if (key == "devices_per_job") {
      if (number > kMaxDevicesPerJob) return bad("at most " + std::to_string(kMaxDevicesPerJob) + " devices per job");
      spec.devices_per_job = static_cast<int>(number);
    } else if (key == "count") {
      if (number > kMaxSweepJobs) return bad("at most " + std::to_string(kMaxSweepJobs) + " samples");
      spec.count = static_cast<int>(number);
    } else {
      spec.seed = static_cast<std::uint64_t>(number);
    }
    return Status::Ok();
  }

  const OptionSpec* option = FindStyleOption(key);
  if (option == nullptr) {
    std::vector<std::string> candidates = SweepParser::SettingKeys();
    candidates.insert(candidates.end(), kSweepLevelOverrides.begin(), kSweepLevelOverrides.end());
    return bad("unknown setting '" + key + "' (did you mean '" + ClosestWord(key, candidates) + "'?)");
  }
  std::vector<std::string> values = SplitAlternatives(value, IsListType(option->type));
  StyleOptions scratch;
  for (const auto& alternative : values) {
    if (alternative.empty()) return bad("empty value");
    Status checked = SetStyleOption(scratch, key, alternative);
    if (!checked.ok()) return bad(checked.message());
  }

  auto parameter = std::find_if(spec.parameters.begin(), spec.parameters.end(),
                                [&](const ParameterSpec& p) { return p.key == key; });
  auto fixed = std::find_if(spec.base.begin(), spec.base.end(), [&](const auto& kv) { return kv.first == key; });
  if (parameter != spec.parameters.end()) {
    parameter->values = values;
    parameter->distribution = Distribution::kNone;
  } else if (values.size() == 1) {
    if (fixed != spec.base.end()) fixed->second = values.front();
    else spec.base.emplace_back(key, values.front());
  } else {
    if (fixed != spec.base.end()) spec.base.erase(fixed);
    ParameterSpec added;
    added.key = key;
    added.values = values;
    spec.parameters.push_back(std::move(added));
  }
  return Status::Ok();
}

Result<SweepSpec> ParseSweep(const std::string& yaml_text, const std::string& source_name,
                             const std::vector<std::string>& overrides) {
  SweepParser parser(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    return parser.ErrorAt(SourceMark{error.mark.line + 1, error.mark.column + 1},
                          "not valid YAML: " + error.msg + " (check the brackets, quotes and indentation here)");
  }
  Result<SweepSpec> parsed = Status::Internal("sweep not parsed");
  try {
    parsed = parser.Parse(root);
  } catch (const YAML::Exception& error) {
    return parser.ErrorAt(SourceMark{error.mark.line + 1, error.mark.column + 1}, error.msg);
  }
  if (!parsed.ok()) return parsed.status();
  SweepSpec spec = std::move(parsed).value();
  spec.text = yaml_text;
  std::error_code error;
  std::filesystem::path folder = std::filesystem::path(source_name).parent_path();
  spec.base_dir = std::filesystem::absolute(folder.empty() ? "." : folder, error).lexically_normal().string();
  for (const auto& text : overrides) SS_RETURN_IF_ERROR(ApplySweepOverride(spec, text));
  SS_RETURN_IF_ERROR(parser.Check(spec));
  spec.output.dataset_dir = ReplaceAll(spec.output.dataset_dir, "${sweep_dir}", spec.base_dir);
  spec.output.dataset_dir = ReplaceAll(spec.output.dataset_dir, "${shared}", ResolveSharedDir());
  return spec;
}

Result<SweepSpec> LoadSweepFile(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return Status::NotFound(path + ": no such sweep file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot be opened for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError(path + ": read failed");
  return ParseSweep(text.str(), path, overrides);
}

}  // namespace stylesweep
