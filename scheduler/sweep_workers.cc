#include "scheduler/sweep_workers.h"

#include <unistd.h>

#include <string>

#include "common/host_name.h"
#include "common/shared_dir.h"
#include "engine/device_memory.h"
#include "scheduler/band_executor.h"
#include "scheduler/engine_executor.h"
#include "scheduler/mpi_transport.h"
#include "scheduler/stop_signal.h"
#include "scheduler/worker_groups.h"

namespace stylesweep {
namespace {

WorkerHello HelloFor(int rank, const std::string& gpus) {
  return WorkerHello{HostName(), rank, LocalRankFromEnvironment(), static_cast<int>(getpid()), gpus};
}

EngineExecutorOptions ExecutorOptionsFor(const SweepRequest& request) {
  EngineExecutorOptions options;
  options.models_dir = SharedModelsDir(request.shared_dir);
  options.num_threads = request.threads;
  options.local_rank = LocalRankFromEnvironment();
  return options;
}

}  // namespace

std::int64_t EngineSweepWorkers::SmallestGpuBytes() {
  Result<std::int64_t> smallest = SmallestCudaDeviceMemory();
  return smallest.ok() ? *smallest : 0;
}

SweepOutcome EngineSweepWorkers::RunAlone(const SweepRequest& request, const SweepSpec& spec,
                                          std::int64_t smallest_gpu_bytes) {
  EngineExecutor executor(ExecutorOptionsFor(request));
  LocalTransport transport(&executor, StopRequested, HelloFor(0, executor.GpuForThisProcess()));
  return CoordinateSweep(request, spec, transport, 1, smallest_gpu_bytes, StopRequested);
}

Status EngineSweepWorkers::RunWorker(const SweepRequest& request, int rank) {
  EngineExecutor executor(ExecutorOptionsFor(request));
  return RunMpiWorker(MPI_COMM_WORLD, executor, HelloFor(rank, executor.GpuForThisProcess()), StopRequested);
}

Status EngineSweepWorkers::RunGroupMember(const SweepRequest& request, const WorkerGroups& groups, int rank) {
  const EngineExecutorOptions options = ExecutorOptionsFor(request);
  if (groups.group_rank != 0) return RunBandFollower(groups.group, options, StopRequested);
  BandSplitExecutor executor(groups.group, options);
  Status status = RunMpiWorker(MPI_COMM_WORLD, executor, HelloFor(rank, executor.GroupGpus()), StopRequested);
  Status stopped = executor.StopFollowers();
  return status.ok() ? stopped : status;
}

}  // namespace stylesweep
