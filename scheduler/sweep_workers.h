// The ranks of a sweep that run jobs, with the engine: what
// `stylesweep-engine sweep` passes to RunSweepRequest (sweep_run.h). One
// process alone runs every job through an EngineExecutor; a worker rank runs
// RunMpiWorker over one; with devices_per_job > 1 a group's leader runs a
// BandSplitExecutor and the other members RunBandFollower.
//
// Part of stylesweep_scheduler, which links LibTorch; the front executable
// (rank 0 of several ranks) has no worker side.
#pragma once

#include <cstdint>

#include "scheduler/sweep_run.h"

namespace stylesweep {

class EngineSweepWorkers : public SweepWorkerSide {
 public:
  // SmallestCudaDeviceMemory (engine/device_memory.h); 0 without a CUDA
  // device. With a CUDA LibTorch this starts the CUDA runtime on every
  // worker at start-up, also for a sweep of CPU jobs (the workers do not
  // read the sweep file, so they cannot tell).
  std::int64_t SmallestGpuBytes() override;
  SweepOutcome RunAlone(const SweepRequest& request, const SweepSpec& spec, std::int64_t smallest_gpu_bytes) override;
  Status RunWorker(const SweepRequest& request, int rank) override;
  Status RunGroupMember(const SweepRequest& request, const WorkerGroups& groups, int rank) override;
};

}  // namespace stylesweep
