// Joining stores: `stylesweep merge STORE... -o STORE`. The shares of a large
// sweep (Slurm job arrays, `stylesweep sweep --share I/N`) each write their
// own store; merging them gives one store as if one sweep had run them all.
//
// Identity: a run is (experiment name, config_hash), and config_hash is the
// job's identity hash (JobSpec::job_key), so the same job run in two stores
// is one run in the output. When both have it, the better state wins:
// FINISHED > FAILED > KILLED > RUNNING > QUEUED; on a tie the run already in
// the output stays (for two FINISHED runs: a duplicate skipped). The winner
// is copied whole: params, metric history, latest metrics, timings,
// artifacts (files copied, sha256 checked) and its status, attempts, host,
// rank, device and times. Run ids are the output's own.
//
// Experiments merge by name. An input experiment whose sweep hash differs
// from the output's experiment of the same name is still merged (a sweep may
// grow, as in RunStore::CreateOrGetExperiment; the output keeps its sweep
// text) and a warning says so.
//
// Failure: each input is merged in one transaction of the output store;
// artifact files are written before it commits and removed again if it does
// not. An input that fails leaves the output as the previous inputs left it.
// Torch-free and MPI-free; one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace stylesweep {

struct MergeSummary {
  int64_t inputs = 0;                // stores read
  int64_t experiments_created = 0;   // experiment names new to the output
  int64_t runs_added = 0;            // jobs new to the output
  int64_t runs_replaced = 0;         // output runs replaced by a better state (FINISHED over KILLED...)
  int64_t duplicates_skipped = 0;    // FINISHED in the output already and FINISHED in an input
  int64_t runs_kept = 0;             // other input runs not better than the output's (e.g. KILLED vs FINISHED)
  int64_t artifacts_copied = 0;      // artifact files written into the output
  std::vector<std::string> warnings; // sweep hash conflicts, missing or damaged artifact files, param mismatches
};

// Merges every store folder in `inputs` into the store folder `output`
// (created if missing; an existing store is merged into). Errors:
// kInvalidArgument (no inputs, an input twice, an input that is the output),
// kNotFound (an input is not a store), kCorrupt (an input has a newer
// schema), kBusy (the output is being written by a sweep), kIoError.
Result<MergeSummary> MergeStores(const std::vector<std::string>& inputs, const std::string& output);

}  // namespace stylesweep
