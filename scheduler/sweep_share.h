// Shares of a sweep: `stylesweep sweep ... --share I/N` runs only share I of
// N, so that N allocations (a Slurm job array) can each take a disjoint part
// of one large sweep into their own store, joined later by `stylesweep merge`.
//
// The split is by position in the expanded job list (ExpandSweep's order,
// which depends only on the sweep file, its overrides and the images): job p
// belongs to share p mod N. Shares are therefore disjoint, together cover
// every job, differ in size by at most one job, and a share re-expanded after
// a requeue is the same set of jobs. Editing the sweep file between shares
// moves jobs between shares; run every share of one sweep from one file.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"

namespace stylesweep {

struct SweepShare {
  int index = 0;  // which share, 0 .. count-1 (Slurm's SLURM_ARRAY_TASK_ID)
  int count = 1;  // how many shares (SLURM_ARRAY_TASK_COUNT); 1: the whole sweep
};

// Parses "I/N" (0 <= I < N, 1 <= N <= 100000). kInvalidArgument naming the
// text and the expected form otherwise.
Result<SweepShare> ParseSweepShare(const std::string& text);

// True when the job at `position` of the expanded list belongs to `share`.
bool InShare(std::size_t position, const SweepShare& share);

// The jobs of `jobs` that belong to `share`, in their original order.
std::vector<JobSpec> KeepShare(std::vector<JobSpec> jobs, const SweepShare& share);

}  // namespace stylesweep
