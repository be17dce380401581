#include "scheduler/dataset_keep.h"

#include "scheduler/coordinator.h"
#include "scheduler/run_metric_names.h"
#include "store/query.h"

namespace stylesweep {

Status CheckKeepFilter(const std::string& filter, const std::vector<JobSpec>& jobs) {
  query::QuerySchema schema;
  for (const JobSpec& job : jobs) {
    for (const auto& [key, value] : RunParamsForJob(job)) {
      query::ParamKeyInfo& info = schema.params[key];
      if (value.type == ParamValue::Type::kNumber) info.has_numbers = true;
      else info.has_text = true;
    }
  }
  const std::vector<std::string> metrics = RunMetricNames(jobs);
  for (const std::string& metric : metrics) schema.metrics.emplace(metric, static_cast<int64_t>(schema.metrics.size()));
  Result<query::CompiledQuery> compiled = query::Compile(filter, {}, schema);
  if (!compiled.ok()) return compiled.status().WithContext("output.keep");
  return Status::Ok();
}

Result<bool> RunPassesKeep(RunStore& store, const std::string& experiment, std::int64_t run_id,
                           const std::string& filter) {
  RunQuery query;
  query.experiment = experiment;
  query.where = "id = " + std::to_string(run_id) + " and (" + filter + ")";
  Result<std::vector<RunRecord>> runs = store.ListRuns(query);
  if (!runs.ok()) return runs.status().WithContext("output.keep");
  return !runs->empty();
}

}  // namespace stylesweep
