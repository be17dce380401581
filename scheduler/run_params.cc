#include "scheduler/run_params.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "common/text.h"
#include "engine/style_options.h"
#include "store/json_output.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

std::string FileName(const std::string& path) { return fs::path(path).filename().string(); }

// A number when the whole text parses as one, else nullopt.
std::optional<double> ParseNumber(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

ParamValue NumberOrString(const std::string& text) {
  if (std::optional<double> number = ParseNumber(text)) return ParamValue::Number(*number);
  return ParamValue::String(text);
}

}  // namespace

ParamValue TypedOptionValue(OptionType type, const std::string& text) {
  switch (type) {
    case OptionType::kInt:
    case OptionType::kNumber: return NumberOrString(text);
    case OptionType::kString:
    case OptionType::kBool: return ParamValue::String(text);
    case OptionType::kStringList:
    case OptionType::kScales: {
      std::vector<ParamValue> items;
      for (const std::string& item : SplitList(text)) items.push_back(ParamValue::String(item));
      return ParamValue::List(std::move(items));
    }
    case OptionType::kNumberList: {
      std::vector<ParamValue> items;
      for (const std::string& item : SplitList(text)) items.push_back(NumberOrString(item));
      return ParamValue::List(std::move(items));
    }
  }
  return ParamValue::String(text);
}

ParamValue TypedParam(const std::string& key, const std::string& text) {
  const OptionSpec* spec = FindStyleOption(key);
  return spec != nullptr ? TypedOptionValue(spec->type, text) : NumberOrString(text);
}

Params RunParamsForJob(const JobSpec& job) {
  Params params;
  const std::map<std::string, std::string> values = StyleOptionsToMap(job.options);
  const std::vector<std::string>& placement = NonIdentityKeys();
  for (const OptionSpec& spec : StyleOptionSpecs()) {
    const std::string key = spec.key;
    if (key == "weights" || std::find(placement.begin(), placement.end(), key) != placement.end()) continue;
    auto it = values.find(key);
    if (it != values.end()) params[key] = TypedOptionValue(spec.type, it->second);
  }
  for (const auto& [key, text] : job.params) {
    if (params.count(key) != 0) continue;
    params[key] = TypedParam(key, text);
  }
  params["content"] = ParamValue::String(FileName(job.content_path));
  std::vector<ParamValue> styles;
  for (const std::string& path : job.style_paths) styles.push_back(ParamValue::String(FileName(path)));
  params["style"] = styles.size() == 1 ? styles.front() : ParamValue::List(std::move(styles));
  // Full paths too, so reports can show the source images next to the results.
  params["content_path"] = ParamValue::String(job.content_path);
  std::vector<ParamValue> style_paths;
  for (const std::string& path : job.style_paths) style_paths.push_back(ParamValue::String(path));
  params["style_paths"] = ParamValue::List(std::move(style_paths));
  params["repeat"] = ParamValue::Number(job.repeat);
  return params;
}

const BoolParamKeys& BoolOptionKeys() {
  static const BoolParamKeys keys = [] {
    BoolParamKeys bools;
    for (const OptionSpec& spec : StyleOptionSpecs()) {
      if (spec.type == OptionType::kBool) bools.insert(spec.key);
    }
    return bools;
  }();
  return keys;
}

nlohmann::json TypedParamJson(const std::string& key, const std::string& text) {
  return ParamJson(key, TypedParam(key, text), BoolOptionKeys());
}

nlohmann::json StyleOptionsJson(const StyleOptions& options) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, text] : StyleOptionsToMap(options)) out[key] = TypedParamJson(key, text);
  return out;
}

}  // namespace stylesweep
