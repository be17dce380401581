#include "store/pareto.h"

#include <cmath>
#include <optional>
#include <set>

#include "common/text.h"
#include "engine/judge_metric_names.h"
#include "store/format.h"

namespace stylesweep {
namespace {

std::optional<std::vector<double>> ObjectiveValues(const RunRecord& run, const std::vector<ParetoObjective>& objectives) {
  std::vector<double> values;
  for (const ParetoObjective& objective : objectives) {
    auto found = run.latest_metrics.find(objective.metric);
    if (found == run.latest_metrics.end() || std::isnan(found->second.value)) return std::nullopt;
    values.push_back(objective.maximize ? -found->second.value : found->second.value);  // all minimised below
  }
  return values;
}

bool Dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

}  // namespace

Result<std::vector<ParetoObjective>> ParseParetoObjectives(const std::string& text) {
  std::vector<ParetoObjective> objectives;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    ParetoObjective objective;
    const size_t colon = item.rfind(':');
    if (colon != std::string::npos) {
      const std::string goal = item.substr(colon + 1);
      if (goal != "min" && goal != "max") {
        return Status::InvalidArgument("pareto: '" + item + "': the goal after ':' must be min or max, not '" + goal + "'");
      }
      objective.maximize = goal == "max";
      item = item.substr(0, colon);
    }
    if (item.rfind("metrics.", 0) == 0) item = item.substr(8);
    if (item.empty()) return Status::InvalidArgument("pareto: empty metric name in '" + text + "'");
    objective.metric = item;
    objectives.push_back(objective);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (objectives.size() < 2) {
    return Status::InvalidArgument("pareto needs at least two metrics, comma separated, e.g. "
                                   "eval/style_distance,eval/content_distance");
  }
  return objectives;
}

std::vector<std::size_t> ParetoFront(const std::vector<RunRecord>& runs, const std::vector<ParetoObjective>& objectives) {
  std::vector<std::optional<std::vector<double>>> values;
  for (const RunRecord& run : runs) values.push_back(ObjectiveValues(run, objectives));
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!values[i]) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < runs.size() && !dominated; ++j) {
      dominated = j != i && values[j] && Dominates(*values[j], *values[i]);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

Status CheckOneJudge(const std::vector<RunRecord>& runs) {
  std::set<double> judges;
  for (const RunRecord& run : runs) {
    auto found = run.latest_metrics.find(kJudgeIdMetric);
    if (found != run.latest_metrics.end()) judges.insert(found->second.value);
  }
  if (judges.size() <= 1) return Status::Ok();
  std::vector<std::string> ids;
  for (double id : judges) ids.push_back(FormatNumberExact(id));
  return Status::InvalidArgument("these runs carry scores of " + std::to_string(judges.size()) +
                                 " different judges (eval/judge_id " + JoinStrings(ids, ", ") +
                                 "), which are not on one scale; `stylesweep evaluate --store DIR` rescores them "
                                 "with this binary's judge");
}

}  // namespace stylesweep
