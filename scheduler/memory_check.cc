#include "scheduler/memory_check.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "engine/device_memory.h"
#include "engine/batch_compatibility.h"
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

Result<int> ParseBatchJobs(const std::string& text) {
  if (text == "auto") return 0;
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < 1) {
    return Status::InvalidArgument("--batch-jobs must be a whole number >= 1 or auto, not '" + text + "'");
  }
  return value;
}

std::vector<int> BatchCapacities(const std::vector<JobSpec>& jobs, int batch_jobs) {
  std::vector<int> capacities(jobs.size(), 1);
  if (batch_jobs <= 1) return capacities;
  std::map<std::string, int> sharing;
  std::vector<std::string> keys(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].options.optimizer != "lbfgs") continue;
    keys[i] = BatchCompatibilityKey(jobs[i].options);
    ++sharing[keys[i]];
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (!keys[i].empty()) capacities[i] = std::min(batch_jobs, sharing[keys[i]]);
  }
  return capacities;
}

BatchChoice ChooseBatchJobs(const std::vector<JobSpec>& jobs, const MemoryLimit& limit,
                            const std::string& models_dir) {
  BatchChoice choice;
  if (limit.bytes <= 0) {
    choice.note = "--batch-jobs auto: 1 (no device memory to fill: on a CPU one job at a time is faster)";
    return choice;
  }
  if (jobs.empty()) return choice;
  const std::vector<int> capacities = BatchCapacities(jobs, kMaxAutoBatchJobs);
  // No batch holds more jobs than share a batch key.
  int chosen = std::max(1, *std::max_element(capacities.begin(), capacities.end()));
  std::string limiting;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (capacities[i] <= 1 || (limit.cuda_only && !RunsOnCuda(jobs[i]))) continue;
    const int fits = std::max(1, LargestFittingBatch(jobs[i], limit.bytes, models_dir, chosen));
    if (fits >= capacities[i]) continue;  // its whole batch fits: no limit from this job
    if (fits < chosen) {
      chosen = fits;
      limiting = " (job " + std::to_string(jobs[i].index) + " limits it)";
    }
  }
  choice.batch_jobs = chosen;
  choice.note = "--batch-jobs auto: " + std::to_string(chosen) + ", the largest batch (at most " +
                std::to_string(kMaxAutoBatchJobs) + ", and no more than share a batch) that fits " +
                FormatBytes(limit.bytes) + limiting;
  return choice;
}

MemoryLimit SweepMemoryLimit(const std::vector<JobSpec>& jobs, std::int64_t smallest_gpu_bytes) {
  MemoryLimit limit;
  if (smallest_gpu_bytes <= 0 || std::none_of(jobs.begin(), jobs.end(), RunsOnCuda)) return limit;
  limit.bytes = smallest_gpu_bytes;
  limit.cuda_only = true;
  return limit;
}

Status CheckSweepJobsFit(const std::vector<JobSpec>& jobs, const std::string& models_dir,
                         std::int64_t smallest_gpu_bytes, int bands, int batch_jobs) {
  const MemoryLimit limit = SweepMemoryLimit(jobs, smallest_gpu_bytes);
  if (limit.bytes <= 0 && bands <= 1) return Status::Ok();
  JobPlacement placement;
  placement.bands = bands;
  placement.batch = BatchCapacities(jobs, batch_jobs);
  // With bands, estimating also plans every job's bands: an image too short
  // for them is an error here.
  SS_ASSIGN_OR_RETURN(std::vector<MemoryEstimate> estimates, EstimateJobsMemory(jobs, models_dir, "", placement));
  if (limit.bytes <= 0) return Status::Ok();
  return CheckJobsFitMemory(jobs, estimates, limit.bytes, models_dir, /*cuda_only=*/true, placement);
}

}  // namespace stylesweep
