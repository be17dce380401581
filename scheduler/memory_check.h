// The device-memory check shared by `stylesweep plan` and the sweep (sweep_run.h):
// jobs whose memory estimate (engine/memory_estimate.h) exceeds a device's
// memory are refused before anything runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/memory_estimate.h"
#include "experiments/sweep.h"

namespace stylesweep {

// The limit for a --device-memory value: a size ("80GiB") checks every job;
// "auto" the jobs set to run on CUDA against the smallest visible CUDA
// device. `limit` 0 (with Ok) means nothing to check, and `note` says why
// (no CUDA device) or what was checked. A malformed size is kInvalidArgument.
struct MemoryLimit {
  std::int64_t bytes = 0;  // 0: no check
  bool cuda_only = false;  // check only the jobs that run on CUDA
  std::string note;        // one line for the user; empty when nothing to say
};
Result<MemoryLimit> ResolveMemoryLimit(const std::string& flag);

// The largest batch `--batch-jobs auto` picks.
inline constexpr int kMaxAutoBatchJobs = 16;

// --batch-jobs: a whole number >= 1, or "auto" (returned as 0).
// kInvalidArgument otherwise.
Result<int> ParseBatchJobs(const std::string& text);

// Per job: the most jobs its batch can hold under --batch-jobs `batch_jobs`:
// batch_jobs, or fewer when fewer jobs share its BatchCompatibilityKey
// (the coordinator batches only those); 1 for L-BFGS-less jobs.
std::vector<int> BatchCapacities(const std::vector<JobSpec>& jobs, int batch_jobs);

// --batch-jobs auto against `limit`: the largest K <= kMaxAutoBatchJobs at
// which every checked job's batch fits (jobs without a batch partner do not
// limit it), and at least 1. `limit.bytes` 0 (nothing to check, e.g. no GPU):
// 1, since on a CPU one job at a time is faster (docs/BENCHMARKS.md,
// "Batched jobs"). `note` says what was chosen and why.
struct BatchChoice {
  int batch_jobs = 1;
  std::string note;
};
BatchChoice ChooseBatchJobs(const std::vector<JobSpec>& jobs, const MemoryLimit& limit,
                            const std::string& models_dir);

// `stylesweep sweep`'s check before any job runs. `smallest_gpu_bytes`: the
// smallest GPU memory among the ranks that run jobs (sweep_run.h), 0 when
// they see none. `bands`: the devices each job is split over
// (devices_per_job); `batch_jobs`: the --batch-jobs K each job's batch may
// reach. With bands > 1, a job whose image cannot be split into that many
// bands is an error naming it. When any job runs on CUDA and
// `smallest_gpu_bytes` > 0, the CUDA jobs that exceed it are kOutOfMemory
// (CheckJobsFitMemory's message). Otherwise Ok. Torch-free: asks no device.
Status CheckSweepJobsFit(const std::vector<JobSpec>& jobs, const std::string& models_dir,
                         std::int64_t smallest_gpu_bytes, int bands = 1, int batch_jobs = 1);

// The limit `stylesweep sweep` checks CUDA jobs against:
// `smallest_gpu_bytes` (as in CheckSweepJobsFit) when any job runs on CUDA;
// 0 (no check) otherwise, or when no rank sees a GPU (the engine then
// reports the missing device when a CUDA job runs).
MemoryLimit SweepMemoryLimit(const std::vector<JobSpec>& jobs, std::int64_t smallest_gpu_bytes);

}  // namespace stylesweep
