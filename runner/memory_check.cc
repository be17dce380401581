#include "runner/memory_check.h"

#include <algorithm>

#include "engine/device_memory.h"
#include "experiments/job_memory.h"

namespace stylesweep {

Result<MemoryLimit> ResolveMemoryLimit(const std::string& flag) {
  MemoryLimit limit;
  if (flag.empty()) return limit;
  if (flag != "auto") {
    Result<std::int64_t> parsed = ParseByteSize(flag);
    if (!parsed.ok()) return parsed.status().WithContext("--device-memory");
    limit.bytes = *parsed;
    return limit;
  }
  Result<std::int64_t> smallest = SmallestCudaDeviceMemory();
  if (!smallest.ok()) {
    limit.note = "memory not checked: " + smallest.status().message();
    return limit;
  }
  limit.bytes = *smallest;
  limit.cuda_only = true;
  limit.note = "checking the CUDA jobs against " + FormatBytes(limit.bytes) + " (the smallest visible CUDA device)";
  return limit;
}

Status CheckCudaJobsFitDevices(const std::vector<JobSpec>& jobs, const std::string& models_dir, int bands) {
  if (std::none_of(jobs.begin(), jobs.end(), RunsOnCuda)) return Status::Ok();
  Result<std::int64_t> smallest = SmallestCudaDeviceMemory();
  if (!smallest.ok()) return Status::Ok();  // the engine reports a missing device when a job runs
  return CheckJobsFitMemory(jobs, *smallest, models_dir, /*cuda_only=*/true, bands);
}

}  // namespace stylesweep
