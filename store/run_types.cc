#include "store/run_types.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "store/format.h"
#include "store/json_output.h"

namespace stylesweep {

const char* RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kQueued: return "QUEUED";
    case RunStatus::kRunning: return "RUNNING";
    case RunStatus::kFinished: return "FINISHED";
    case RunStatus::kFailed: return "FAILED";
    case RunStatus::kKilled: return "KILLED";
  }
  return "UNKNOWN";
}

Result<RunStatus> ParseRunStatus(const std::string& text) {
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  for (RunStatus status : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed,
                           RunStatus::kKilled}) {
    if (upper == RunStatusName(status)) return status;
  }
  return Status::InvalidArgument("unknown run status '" + text +
                                 "'; expected one of QUEUED, RUNNING, FINISHED, FAILED, KILLED");
}

bool IsTerminal(RunStatus status) {
  return status == RunStatus::kFinished || status == RunStatus::kFailed || status == RunStatus::kKilled;
}

ParamValue ParamValue::Number(double value) {
  ParamValue v;
  v.type = Type::kNumber;
  v.number = value;
  return v;
}

ParamValue ParamValue::String(std::string value) {
  ParamValue v;
  v.type = Type::kString;
  v.text = std::move(value);
  return v;
}

ParamValue ParamValue::List(std::vector<ParamValue> items) {
  ParamValue v;
  v.type = Type::kList;
  v.items = std::move(items);
  return v;
}

std::string ParamValue::ToText() const {
  switch (type) {
    case Type::kNumber: return FormatNumberExact(number);
    case Type::kString: return text;
    case Type::kList: {
      std::string out = "[";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ",";
        out += items[i].type == Type::kNumber ? FormatNumberExact(items[i].number) : ParamJson(items[i]).dump();
      }
      return out + "]";
    }
  }
  return "";
}

bool ParamValue::operator==(const ParamValue& other) const {
  return type == other.type && ToText() == other.ToText();
}

std::optional<bool> BoolParam(const std::string& key, const ParamValue& value, const BoolParamKeys& bool_params) {
  if (value.type != ParamValue::Type::kString || bool_params.count(key) == 0) return std::nullopt;
  if (value.text == "true") return true;
  if (value.text == "false") return false;
  return std::nullopt;
}

const char* ParamTypeName(ParamValue::Type type) {
  switch (type) {
    case ParamValue::Type::kNumber: return "number";
    case ParamValue::Type::kString: return "string";
    case ParamValue::Type::kList: return "list";
  }
  return "unknown";
}

const char* ArtifactKindName(ArtifactKind kind) {
  return kind == ArtifactKind::kFinal ? "final" : "snapshot";
}

std::optional<double> RunRecord::duration() const {
  if (!start_time || !end_time) return std::nullopt;
  return *end_time - *start_time;
}

}  // namespace stylesweep
