// The device-memory check shared by `stylesweep plan` and `stylesweep sweep`:
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

// `stylesweep sweep`'s check: when any job runs on CUDA and a CUDA device is
// visible, the CUDA jobs that exceed the smallest device's memory are
// kOutOfMemory (CheckJobsFitMemory's message); otherwise Ok. `bands`: the
// devices each job is split over (devices_per_job). Reads device
// properties only: creates no allocation on the device.
Status CheckCudaJobsFitDevices(const std::vector<JobSpec>& jobs, const std::string& models_dir, int bands = 1);

}  // namespace stylesweep
