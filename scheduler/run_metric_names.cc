#include "scheduler/run_metric_names.h"

#include <algorithm>

#include "common/text.h"
#include "engine/judge_metric_names.h"

namespace stylesweep {

std::vector<std::string> RunMetricNames(const std::vector<JobSpec>& jobs) {
  std::vector<std::string> names = {"total_loss",        "content_loss",          "style_loss",
                                    "tv_loss",           "stop/iteration",        "stop/converged",
                                    "memory/estimate_bytes", "memory/peak_bytes", kStyleDistanceMetric,
                                    kContentDistanceMetric,  kSsimMetric,         kColorDistanceMetric,
                                    kJudgeIdMetric};
  for (const JobSpec& job : jobs) {
    for (const std::string& layer : job.options.style_layers) names.push_back("style_loss/" + layer);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Status CheckRankingMetric(const SweepSpec& spec, const std::vector<JobSpec>& jobs) {
  const std::vector<std::string> names = RunMetricNames(jobs);
  if (std::binary_search(names.begin(), names.end(), spec.metric.name)) return Status::Ok();
  return Status::InvalidArgument(spec.source + ": metric.name '" + spec.metric.name +
                                 "' is not a metric the runs record (did you mean '" +
                                 ClosestWord(spec.metric.name, names) + "'?)");
}

}  // namespace stylesweep
