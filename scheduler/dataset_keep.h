// `output.keep` of a sweep file: a filter in the `runs --where` language
// (docs/STORE.md) over a finished run's params and metrics, the judge's
// scores included. Only the images of runs that pass go into the dataset
// folder; every run stays in the store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"
#include "store/run_store.h"

namespace stylesweep {

// Checks `filter` before anything runs: its syntax and its keys, against
// the keys the sweep's runs will carry (the params of `jobs`, the metrics of
// RunMetricNames: losses, stop/, memory/, the judge's eval/ scores). kInvalidArgument
// "output.keep: ..." with the column and the closest key for a typo.
Status CheckKeepFilter(const std::string& filter, const std::vector<JobSpec>& jobs);

// Whether recorded run `run_id` of `experiment` passes `filter`: one
// ListRuns with "id = <run_id> and (<filter>)". Errors: the store's (a key
// no run of the store has yet, e.g. when the judge could not score, is
// kInvalidArgument).
Result<bool> RunPassesKeep(RunStore& store, const std::string& experiment, std::int64_t run_id,
                           const std::string& filter);

}  // namespace stylesweep
