// Memory estimates for expanded sweep jobs, and the check that refuses jobs
// a device cannot hold before any of them runs (`stylesweep plan` and
// `stylesweep sweep`). The arithmetic is engine/memory_estimate.h; this file
// supplies what a JobSpec knows: the content image's size (read from its
// header) and the job's resolved layers and weights file.
//
// Thread safety: reentrant; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/memory_estimate.h"
#include "experiments/job_table.h"
#include "experiments/sweep.h"

namespace stylesweep {

// How a sweep's jobs are placed on devices, for the memory check.
struct JobPlacement {
  int bands = 1;           // devices each job is split over (a sweep's devices_per_job)
  std::vector<int> batch;  // per job (parallel to the jobs): the most jobs its batch can hold
                           // (--batch-jobs, scheduler/memory_check.h BatchCapacities); empty: 1 each
  // The batch of job `i`: batch[i], or 1.
  int BatchOf(std::size_t i) const { return i < batch.size() ? batch[i] : 1; }
};

// The estimate for one job. `device` overrides the job's own device setting
// for the CUDA-context term ("cuda" when checking against a GPU); empty: the
// job's. `bands` > 1: the per-device share when the job is split over that
// many devices (a sweep's devices_per_job); `batch` > 1: a batch of that
// many jobs like this one. Errors name the job's content image or weights file.
Result<MemoryEstimate> EstimateJobMemory(const JobSpec& job, const std::string& models_dir,
                                         const std::string& device = "", int bands = 1, int batch = 1);

// EstimateJobMemory for every job as `placement` places it, in order (the
// first error stops it).
Result<std::vector<MemoryEstimate>> EstimateJobsMemory(const std::vector<JobSpec>& jobs,
                                                       const std::string& models_dir,
                                                       const std::string& device = "",
                                                       const JobPlacement& placement = {});

// EstimateJobsMemory for the jobs of `table`, without a JobSpec per job:
// each distinct (setting, content size, batch) is estimated once, so a
// million jobs of a few configurations cost a few estimates. Content sizes
// come from the table (read from the header where it has none). The same
// estimates and the same first error as EstimateJobsMemory over
// table.AllJobs().
Result<std::vector<MemoryEstimate>> EstimateTableMemory(const JobTable& table, const std::string& models_dir,
                                                        const std::string& device = "",
                                                        const JobPlacement& placement = {});

// Jobs whose device_required exceeds `limit_bytes`, as one kOutOfMemory
// status listing each (index, short key, content, size, estimate, limit)
// and what would make it fit: a smaller batch (--batch-jobs), a smaller
// size, fewer or shallower style layers, a shorter L-BFGS history, or the
// per-device estimate when the image is split into N bands over N devices.
// Ok when every job fits. `estimates` parallels `jobs` (EstimateJobsMemory
// with the jobs' own devices and the same `placement`). `cuda_only`: the
// limit is a GPU's, so jobs set to run on the CPU are not checked.
Status CheckJobsFitMemory(const std::vector<JobSpec>& jobs, const std::vector<MemoryEstimate>& estimates,
                          std::int64_t limit_bytes, const std::string& models_dir, bool cuda_only = false,
                          const JobPlacement& placement = {});

// Estimates every job (each on its own device) and checks it as above.
Status CheckJobsFitMemory(const std::vector<JobSpec>& jobs, std::int64_t limit_bytes, const std::string& models_dir,
                          bool cuda_only = false, const JobPlacement& placement = {});

// True when the job's device setting is "cuda" or "cuda:N".
bool RunsOnCuda(const JobSpec& job);

// The largest size (longest side, px, a multiple of 32) at which `job`
// fits `limit_bytes` when split over `bands` devices in batches of `batch`,
// or 0 when not even 32 px fits.
int LargestFittingSize(const JobSpec& job, std::int64_t limit_bytes, const std::string& models_dir, int bands = 1,
                       int batch = 1);

// The largest batch of jobs like `job`, at most `max_batch`, that fits
// `limit_bytes`; 0 when not even the job alone fits or it cannot be read.
int LargestFittingBatch(const JobSpec& job, std::int64_t limit_bytes, const std::string& models_dir, int max_batch);

}  // namespace stylesweep
