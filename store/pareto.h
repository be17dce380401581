// Pareto fronts over runs' latest metrics: `stylesweep runs --pareto
// eval/style_distance,eval/content_distance` and a finished sweep's front.
// Pure functions of their inputs; no database access.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/run_types.h"

namespace stylesweep {

// One objective: a metric, minimised unless `maximize`.
struct ParetoObjective {
  std::string metric;     // "eval/style_distance" (without "metrics.")
  bool maximize = false;  // true for "KEY:max" (eval/ssim)
};

// Parses "KEY[:min|:max],KEY[:min|:max]..." (at least two keys; a key may be
// written "metrics.KEY"; spaces around a key are dropped). kInvalidArgument naming the bad part.
Result<std::vector<ParetoObjective>> ParseParetoObjectives(const std::string& text);

// The runs no other run dominates, as indices into `runs`, in input order.
// Run a dominates b when a is at least as good in every objective and
// better in one. Runs lacking an objective's metric (or holding NaN) take
// no part: they are neither on the front nor dominate anything.
std::vector<std::size_t> ParetoFront(const std::vector<RunRecord>& runs, const std::vector<ParetoObjective>& objectives);

// kInvalidArgument when `runs` carry eval/ scores of more than one judge
// (different eval/judge_id), naming the ids and `stylesweep evaluate
// --store` as the way to rescore them; Ok otherwise.
Status CheckOneJudge(const std::vector<RunRecord>& runs);

}  // namespace stylesweep
