// The metrics a sweep's finished runs record, by name, so that what a sweep
// file says about them (output.keep, metric.name) is checked before any job
// runs rather than after the last.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"

namespace stylesweep {

// The engine's losses (total_loss, content_loss, style_loss, tv_loss, and
// style_loss/LAYER for each style layer of `jobs`), why the run stopped
// (stop/iteration, stop/converged: scheduler/engine_executor.cc), the memory
// estimate and peak, and the judge's eval/ scores. Sorted, no duplicates.
std::vector<std::string> RunMetricNames(const std::vector<JobSpec>& jobs);

// The sweep's `metric.name`, by which it ranks its best runs at the end:
// kInvalidArgument "SOURCE: metric.name 'total_los' is not a metric the runs
// record (did you mean 'total_loss'?)" when it is none of RunMetricNames.
Status CheckRankingMetric(const SweepSpec& spec, const std::vector<JobSpec>& jobs);

}  // namespace stylesweep
