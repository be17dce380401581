#include "scheduler/engine_executor.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/shared_dir.h"
#include "engine/device_memory.h"
#include "engine/image_io.h"
#include "engine/style_transfer.h"
#include "experiments/job_memory.h"
#include "scheduler/job_scoring.h"

namespace stylesweep {

namespace {

// memory/estimate_bytes (the model's peak allocation, engine/memory_estimate.h)
// always; memory/peak_bytes (the CUDA caching allocator's peak) on CUDA.
// Both at the run's last step. A failed estimate leaves the metric out.
void AddMemoryMetrics(const JobSpec& spec, const TransferResult& result, const std::string& models_dir,
                      const std::string& device, int bands, int batch, JobOutcome& outcome) {
  const int step = result.history.empty() ? 0 : result.history.back().iteration;
  const double wall = EpochSeconds();
  Result<MemoryEstimate> estimate = EstimateJobMemory(spec, models_dir, device, bands, batch);
  if (estimate.ok()) {
    outcome.metrics.push_back({"memory/estimate_bytes", step, static_cast<double>(estimate->peak_allocated), wall});
  }
  std::int64_t peak = result.peak_memory_bytes;
  if (peak <= 0) {
    Result<std::int64_t> measured = PeakDeviceMemory(device);
    if (measured.ok()) peak = *measured;
  }
  if (peak > 0) outcome.metrics.push_back({"memory/peak_bytes", step, static_cast<double>(peak), wall});
}

// Why and when the run stopped, as metrics a user can filter on
// (`runs --where "metrics.stop/converged = 1"`), and in words in the run's note:
// stop/iteration (loss evaluations run) and stop/converged (1 when the
// stop_tolerance test ended the last stage, else 0).
void AddStopMetrics(const TransferResult& result, double start_epoch, JobOutcome& outcome) {
  const double wall = start_epoch + (result.history.empty() ? 0.0 : result.history.back().wall_seconds);
  const int step = result.stop_iteration;
  outcome.metrics.push_back({"stop/iteration", step, static_cast<double>(step), wall});
  outcome.metrics.push_back({"stop/converged", step, result.stop_reason == "converged" ? 1.0 : 0.0, wall});
}

}  // namespace

Result<EncodedImage> EncodeImagePng(const Image& image, int step) {
  SS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, EncodePng(image));
  return EncodedImage{std::string(bytes.begin(), bytes.end()), image.width, image.height, step};
}

Result<JobOutcome> OutcomeFromTransfer(const JobSpec& spec, TransferResult result, JobOutcome outcome,
                                       double start_epoch, const std::string& models_dir, const std::string& device,
                                       int bands, int batch) {
  const Clock::time_point encode_start = Clock::now();
  SS_ASSIGN_OR_RETURN(outcome.final_image,
                      EncodeImagePng(result.image, result.history.empty() ? 0 : result.history.back().iteration));
  const double encode_seconds =
      SecondsSince(encode_start);

  outcome.metrics.reserve(result.history.size() * (4 + result.style_layers.size()));
  for (const IterationRecord& record : result.history) {
    const double wall = start_epoch + record.wall_seconds;
    outcome.metrics.push_back({"total_loss", record.iteration, record.total_loss, wall});
    outcome.metrics.push_back({"content_loss", record.iteration, record.content_loss, wall});
    outcome.metrics.push_back({"style_loss", record.iteration, record.style_loss, wall});
    outcome.metrics.push_back({"tv_loss", record.iteration, record.tv_loss, wall});
    for (size_t l = 0; l < record.style_layer_losses.size() && l < result.style_layers.size(); ++l) {
      outcome.metrics.push_back({"style_loss/" + result.style_layers[l], record.iteration,
                                 record.style_layer_losses[l], wall});
    }
  }
  AddMemoryMetrics(spec, result, models_dir, device, bands, batch, outcome);
  AddStopMetrics(result, start_epoch, outcome);
  for (const auto& [phase, seconds] : result.phase_seconds) outcome.timings.push_back({phase, seconds});
  outcome.timings.push_back({"encode", encode_seconds});
  outcome.device = result.device;
  outcome.note = result.note;
  if (result.stop_reason != "iterations done") {
    outcome.note += std::string(outcome.note.empty() ? "" : "; ") + "stopped: " + result.stop_reason +
                    " at iteration " + std::to_string(result.stop_iteration);
  }
  return outcome;
}

int CountVisibleGpus() {
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES"); visible != nullptr) {
    const std::string text = visible;
    if (text.empty() || text == "-1" || text == "NoDevFiles") return 0;
    int count = 1;
    for (char c : text) count += c == ',';
    return count;
  }
  std::error_code error;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/driver/nvidia/gpus", error)) {
    (void)entry;
    ++count;
  }
  if (count > 0) return count;
  return CudaAvailable() ? 1 : 0;
}

EngineExecutorOptions ResolvedExecutorOptions(EngineExecutorOptions options) {
  if (options.models_dir.empty()) options.models_dir = SharedModelsDir();
  if (options.device_count < 0) options.device_count = CountVisibleGpus();
  return options;
}

std::string GpuForRank(const EngineExecutorOptions& options) {
  return options.device_count > 0 ? ResolveJobDevice("cuda", options.local_rank, options.device_count) : "cpu";
}

class EngineExecutor::Impl {
 public:
  explicit Impl(EngineExecutorOptions options)
      : options_(ResolvedExecutorOptions(std::move(options))),
        models_dir_(options_.models_dir),
        transfer_(EngineConfig{models_dir_, options_.num_threads, 64}),
        scorer_(models_dir_) {}

  Result<JobOutcome> Execute(const JobSpec& spec, const std::function<bool()>& should_stop) {
    return std::move(ExecuteBatch({spec}, should_stop).front());
  }

  std::vector<Result<JobOutcome>> ExecuteBatch(const std::vector<JobSpec>& specs,
                                               const std::function<bool()>& should_stop) {
    std::vector<StyleJob> jobs;
    std::vector<RunCallbacks> callbacks(specs.size());
    std::vector<JobOutcome> outcomes(specs.size());
    std::vector<Status> snapshot_errors(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const JobSpec& spec = specs[i];
      jobs.push_back(StyleJob{spec.content_path, spec.style_paths, spec.options});
      jobs.back().options.device = ResolveJobDevice(spec.options.device, options_.local_rank, options_.device_count);
      callbacks[i].should_stop = should_stop;
      callbacks[i].on_snapshot = [&, i](int iteration, const Image& image) {
        Result<EncodedImage> encoded = EncodeImagePng(image, iteration);
        if (encoded.ok()) outcomes[i].snapshots.push_back(std::move(*encoded));
        else if (snapshot_errors[i].ok()) snapshot_errors[i] = encoded.status();
      };
    }
    const double start_epoch = EpochSeconds();
    // One reset for the batch: its jobs share the device (BatchCompatible),
    // so memory/peak_bytes of a batched job is the whole batch's peak.
    if (!jobs.empty()) (void)ResetPeakDeviceMemory(jobs.front().options.device);  // CPU: nothing to reset
    std::vector<Result<TransferResult>> results = transfer_.RunBatch(jobs, callbacks);
    std::vector<Result<JobOutcome>> finished;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (!results[i].ok()) {
        finished.emplace_back(results[i].status());
      } else if (!snapshot_errors[i].ok()) {
        finished.emplace_back(snapshot_errors[i].WithContext("encoding a snapshot"));
      } else {
        finished.push_back(OutcomeFromTransfer(specs[i], std::move(*results[i]), std::move(outcomes[i]), start_epoch,
                                               models_dir_, jobs[i].options.device, 1,
                                               static_cast<int>(specs.size())));
        if (options_.score_runs && finished.back().ok()) scorer_.Score(specs[i], *finished.back());
      }
    }
    return finished;
  }

  std::string GpuForThisProcess() const { return GpuForRank(options_); }

 private:
  EngineExecutorOptions options_;
  std::string models_dir_;
  StyleTransfer transfer_;
  JobScorer scorer_;
};

EngineExecutor::EngineExecutor(EngineExecutorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
EngineExecutor::~EngineExecutor() = default;

Result<JobOutcome> EngineExecutor::Execute(const JobSpec& job, const std::function<bool()>& should_stop) {
  return impl_->Execute(job, should_stop);
}

std::vector<Result<JobOutcome>> EngineExecutor::ExecuteBatch(const std::vector<JobSpec>& jobs,
                                                             const std::function<bool()>& should_stop) {
  return impl_->ExecuteBatch(jobs, should_stop);
}

std::string EngineExecutor::GpuForThisProcess() const { return impl_->GpuForThisProcess(); }

}  // namespace stylesweep
