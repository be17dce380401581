// EngineExecutor: runs jobs with the engine's StyleTransfer. One object per
// worker process keeps the backbones loaded and the style targets cached
// across jobs (the engine does the caching; this object only keeps it alive).
//
// Threading: one thread at a time (as StyleTransfer).
#pragma once

#include <memory>
#include <string>

#include "engine/image.h"
#include "engine/style_transfer.h"
#include "scheduler/job_executor.h"

namespace stylesweep {

struct EngineExecutorOptions {
  std::string models_dir;   // default weights folder; empty: the shared models folder
  int num_threads = 0;      // CPU intra-op threads; 0: LibTorch's default
  int local_rank = 0;       // this process's rank on its node; picks the GPU for device "cuda"
  int device_count = -1;    // GPUs visible to this process; -1: count them (CUDA_VISIBLE_DEVICES or the driver)
  bool score_runs = true;   // score each finished run with the judge (eval/ metrics, scheduler/job_scoring.h)
};

class EngineExecutor : public JobExecutor {
 public:
  explicit EngineExecutor(EngineExecutorOptions options);
  ~EngineExecutor() override;

  // Runs the job on ResolveJobDevice(job device, local_rank, device_count).
  // Losses become metrics (see JobOutcome), the final image and snapshots are
  // encoded as 8-bit PNGs; with score_runs the judge's scores are added.
  Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) override;

  // Runs `jobs` with StyleTransfer::RunBatch: compatible jobs (same
  // BatchCompatibilityKey and content size) share one forward/backward per
  // iteration; each job gets its own outcome, failure or cancellation.
  std::vector<Result<JobOutcome>> ExecuteBatch(const std::vector<JobSpec>& jobs,
                                               const std::function<bool()>& should_stop) override;

  // The GPU a job with device "cuda" lands on ("cuda:1"), or "cpu" without one.
  std::string GpuForThisProcess() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// `options` with its defaults filled in: models_dir the shared models
// folder when empty, device_count counted (CountVisibleGpus) when -1.
EngineExecutorOptions ResolvedExecutorOptions(EngineExecutorOptions options);

// The GPU a job with device "cuda" lands on under resolved `options`
// ("cuda:1"), or "cpu" without one.
std::string GpuForRank(const EngineExecutorOptions& options);

// `image` as an 8-bit PNG showing optimiser step `step`.
Result<EncodedImage> EncodeImagePng(const Image& image, int step);

// Turns an engine result into a JobOutcome: the losses of every evaluation as
// metrics (wall times from `start_epoch`, Unix seconds), memory/estimate_bytes
// for `device` split over `bands` devices or in a batch of `batch` jobs (the
// batch as the worker received it), memory/peak_bytes where `device` reports
// one (a batch's peak is the whole batch's), the phase timings plus
// "encode", and the final image as PNG. `outcome` may already hold
// snapshots. Fails only when encoding fails.
Result<JobOutcome> OutcomeFromTransfer(const JobSpec& spec, TransferResult result, JobOutcome outcome,
                                       double start_epoch, const std::string& models_dir, const std::string& device,
                                       int bands = 1, int batch = 1);

// GPUs visible to this process without initialising CUDA: the entries of
// CUDA_VISIBLE_DEVICES when set, else the NVIDIA driver's GPU list, else
// 1 when the engine reports CUDA, else 0.
int CountVisibleGpus();

}  // namespace stylesweep
