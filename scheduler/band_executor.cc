#include "scheduler/band_executor.h"

#include <iostream>

#include "common/clock.h"
#include "common/text.h"
#include "engine/band_transfer.h"
#include "engine/device_memory.h"
#include "engine/mpi_status.h"
#include "scheduler/mpi_transport.h"
#include "scheduler/job_scoring.h"
#include "scheduler/wire.h"

namespace stylesweep {
namespace {

constexpr int kLeader = 0;
constexpr int kGpuNameBytes = 64;

// Collective over `group`: every rank's GPU ("cuda:1", "cpu"), by group rank.
Result<std::vector<std::string>> GatherGpus(MPI_Comm group, const std::string& mine) {
  int size = 1;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_size(group, &size), "MPI_Comm_size"));
  std::string padded = mine.substr(0, kGpuNameBytes - 1);
  padded.resize(kGpuNameBytes, '\0');
  std::string all(static_cast<size_t>(size) * kGpuNameBytes, '\0');
  SS_RETURN_IF_ERROR(MpiStatus(
      MPI_Allgather(padded.data(), kGpuNameBytes, MPI_CHAR, all.data(), kGpuNameBytes, MPI_CHAR, group),
      "MPI_Allgather of the group's GPUs"));
  std::vector<std::string> gpus;
  for (int r = 0; r < size; ++r) gpus.emplace_back(all.c_str() + static_cast<size_t>(r) * kGpuNameBytes);
  return gpus;
}

// The device this rank runs a job on; every rank of a group resolves the
// job's setting ("cpu" or "cuda"; the sweep refuses "cuda:N") by its own
// local rank. `options` resolved (ResolvedExecutorOptions).
std::string JobDevice(const JobSpec& job, const EngineExecutorOptions& options) {
  return ResolveJobDevice(job.options.device, options.local_rank, options.device_count);
}

StyleJob ToStyleJob(const JobSpec& job, const std::string& device) {
  StyleJob style_job{job.content_path, job.style_paths, job.options};
  style_job.options.device = device;
  return style_job;
}

}  // namespace

BandSplitExecutor::BandSplitExecutor(MPI_Comm group, EngineExecutorOptions options)
    : group_(group), options_(ResolvedExecutorOptions(std::move(options))) {
  Result<std::vector<std::string>> gpus = GatherGpus(group_, GpuForRank(options_));
  if (gpus.ok()) gpus_ = std::move(gpus).value();
  else setup_error_ = gpus.status();
  runner_ = std::make_unique<BandSplitGroup>(group_, options_.models_dir, options_.num_threads);
  scorer_ = std::make_unique<JobScorer>(options_.models_dir);
}

BandSplitExecutor::~BandSplitExecutor() = default;

std::string BandSplitExecutor::GroupGpus() const { return JoinStrings(gpus_, ","); }

Result<JobOutcome> BandSplitExecutor::Execute(const JobSpec& job, const std::function<bool()>& should_stop) {
  SS_RETURN_IF_ERROR(setup_error_);
  JobAssignment assignment;
  assignment.job = job;
  const std::string bytes = EncodeAssignment(assignment);
  for (int rank = 1; rank < runner_->size(); ++rank) SS_RETURN_IF_ERROR(SendBytes(group_, bytes, rank, kTagJob));
  const std::string device = JobDevice(job, options_);
  std::vector<std::string> devices;
  for (const std::string& gpu : gpus_) devices.push_back(device == "cpu" ? "cpu" : gpu);

  JobOutcome outcome;
  Status snapshot_error;
  RunCallbacks callbacks;
  callbacks.should_stop = should_stop;
  callbacks.on_snapshot = [&](int iteration, const Image& image) {
    Result<EncodedImage> encoded = EncodeImagePng(image, iteration);
    if (encoded.ok()) outcome.snapshots.push_back(std::move(*encoded));
    else if (snapshot_error.ok()) snapshot_error = encoded.status();
  };
  const double start_epoch = EpochSeconds();
  (void)ResetPeakDeviceMemory(device);  // CPU: nothing to reset
  Result<TransferResult> result = runner_->Run(ToStyleJob(job, device), device, callbacks);
  if (!result.ok()) return result.status();
  if (!snapshot_error.ok()) return snapshot_error.WithContext("encoding a snapshot");
  SS_ASSIGN_OR_RETURN(JobOutcome finished, OutcomeFromTransfer(job, std::move(result).value(), std::move(outcome),
                                                               start_epoch, options_.models_dir, device,
                                                               runner_->size()));
  finished.device = JoinStrings(devices, ",");
  if (options_.score_runs) scorer_->Score(job, finished);
  return finished;
}

Status BandSplitExecutor::StopFollowers() {
  for (int rank = 1; rank < runner_->size(); ++rank) SS_RETURN_IF_ERROR(SendBytes(group_, std::string(), rank, kTagStop));
  return Status::Ok();
}

Status RunBandFollower(MPI_Comm group, const EngineExecutorOptions& unresolved,
                       const std::function<bool()>& should_stop) {
  const EngineExecutorOptions options = ResolvedExecutorOptions(unresolved);
  int rank = 0;
  SS_RETURN_IF_ERROR(MpiStatus(MPI_Comm_rank(group, &rank), "MPI_Comm_rank"));
  SS_RETURN_IF_ERROR(GatherGpus(group, GpuForRank(options)).status());
  BandSplitGroup runner(group, options.models_dir, options.num_threads);
  while (true) {
    // Poll with short sleeps, as the worker loop does, so an idle follower
    // leaves the CPU to the ranks at work.
    MPI_Status probed;
    SS_RETURN_IF_ERROR(PollMessage(group, kLeader, -1, 2000, &probed).status());
    SS_ASSIGN_OR_RETURN(const std::string bytes, ReceiveBytes(group, probed));
    if (probed.MPI_TAG == kTagStop) return Status::Ok();
    if (probed.MPI_TAG != kTagJob) {
      return Status::Internal("group leader sent a message with unexpected tag " + std::to_string(probed.MPI_TAG));
    }
    Result<JobAssignment> assignment = DecodeAssignment(bytes);
    if (!assignment.ok()) return assignment.status().WithContext("job from the group leader");
    const JobSpec& job = assignment->job;
    const std::string device = JobDevice(job, options);
    RunCallbacks callbacks;
    callbacks.should_stop = should_stop;
    Result<TransferResult> result = runner.Run(ToStyleJob(job, device), device, callbacks);
    if (!result.ok() && result.status().code() != StatusCode::kCancelled) {
      std::cerr << "stylesweep sweep: group rank " << rank << ": job " << job.index << " (" << ShortKey(job.job_key)
                << ") failed: " << result.status().ToString() << "\n";
    }
  }
}

}  // namespace stylesweep
