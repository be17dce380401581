#include "experiments/job_memory.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>
#include <unordered_map>

#include "experiments/image_probe.h"

namespace stylesweep {
namespace {

constexpr int kMaxBandsSuggested = 16;  // devices a band-split hint may ask for

std::string FileName(const std::string& path) { return std::filesystem::path(path).filename().string(); }

int LargestStageSize(const StyleOptions& options) {
  int largest = 0;
  for (const ScaleStage& stage : EffectiveStages(options)) largest = std::max(largest, stage.size);
  return largest;
}

// `options` with every stage scaled so that the largest becomes `size`.
StyleOptions WithLargestSize(StyleOptions options, int size) {
  const int largest = LargestStageSize(options);
  options.size = size;
  for (ScaleStage& stage : options.scales) {
    stage.size = std::max(1, static_cast<int>(static_cast<std::int64_t>(stage.size) * size / std::max(1, largest)));
  }
  return options;
}

// What ResolveBackbone depends on: backbone, pooling, weights, content and style layers.
using BackboneKey =
    std::tuple<std::string, std::string, std::string, std::vector<std::string>, std::vector<std::string>>;

// ResolveBackbone and ProbeImage once per distinct input: a sweep names few
// weights files and layer choices and each content image in many jobs, so
// each header is read once, not once per job.
class EstimateInputs {
 public:
  explicit EstimateInputs(const std::string& models_dir) : models_dir_(models_dir) {}

  const Result<ResolvedBackbone>& Backbone(const StyleOptions& o) {
    BackboneKey key{o.backbone, o.pooling, o.weights, o.content_layers, o.style_layers};
    auto found = backbones_.find(key);
    if (found == backbones_.end()) {
      found = backbones_
                  .emplace(std::move(key), ResolveBackbone(o.backbone, o.pooling, o.weights, models_dir_,
                                                           o.content_layers, o.style_layers))
                  .first;
    }
    return found->second;
  }

  const Result<ImageProbe>& Probe(const std::string& path) {
    auto found = probes_.find(path);
    if (found == probes_.end()) found = probes_.emplace(path, ProbeImage(path)).first;
    return found->second;
  }

 private:
  const std::string& models_dir_;
  std::map<BackboneKey, Result<ResolvedBackbone>> backbones_;
  std::unordered_map<std::string, Result<ImageProbe>> probes_;
};

Result<MemoryEstimate> EstimateWith(const JobSpec& job, const StyleOptions& options, const std::string& models_dir,
                                    const std::string& device, int bands, int batch = 1) {
  Result<ImageProbe> probe = ProbeImage(job.content_path);
  if (!probe.ok()) return probe.status().WithContext("memory estimate of job " + std::to_string(job.index));
  return EstimateRunMemory(options, probe->width, probe->height, models_dir, device, bands, batch);
}

}  // namespace

Result<MemoryEstimate> EstimateJobMemory(const JobSpec& job, const std::string& models_dir,
                                         const std::string& device, int bands, int batch) {
  return EstimateWith(job, job.options, models_dir, device, bands, batch);
}

Result<std::vector<MemoryEstimate>> EstimateJobsMemory(const std::vector<JobSpec>& jobs,
                                                       const std::string& models_dir, const std::string& device,
                                                       const JobPlacement& placement) {
  EstimateInputs inputs(models_dir);
  std::vector<MemoryEstimate> estimates;
  estimates.reserve(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const StyleOptions& o = jobs[i].options;
    const Result<ResolvedBackbone>& backbone = inputs.Backbone(o);
    const Result<ImageProbe>& probe = inputs.Probe(jobs[i].content_path);
    Result<MemoryEstimate> estimate =
        !probe.ok() ? Result<MemoryEstimate>(
                          probe.status().WithContext("memory estimate of job " + std::to_string(jobs[i].index)))
        : !backbone.ok() ? Result<MemoryEstimate>(backbone.status())
                         : EstimateRunMemory(*backbone, o, probe->width, probe->height, device, placement.bands,
                                             placement.BatchOf(i));
    if (!estimate.ok()) {
      return estimate.status().WithContext("job " + std::to_string(jobs[i].index) + " (" +
                                           FileName(jobs[i].content_path) + ")");
    }
    estimates.push_back(*estimate);
  }
  return estimates;
}

Result<std::vector<MemoryEstimate>> EstimateTableMemory(const JobTable& table, const std::string& models_dir,
                                                        const std::string& device, const JobPlacement& placement) {
  EstimateInputs inputs(models_dir);  // probes only contents whose size the table lacks
  std::map<std::tuple<std::uint32_t, int, int, int>, MemoryEstimate> known;  // (setting, width, height, batch)
  std::vector<MemoryEstimate> estimates;
  estimates.reserve(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    const JobTable::Image& content = table.content(i);
    ImageProbe size{"", content.width, content.height};
    if (content.width <= 0 || content.height <= 0) {
      const Result<ImageProbe>& probe = inputs.Probe(content.path);
      if (!probe.ok()) {
        return probe.status()
            .WithContext("memory estimate of job " + std::to_string(table.index(i)))
            .WithContext("job " + std::to_string(table.index(i)) + " (" + FileName(content.path) + ")");
      }
      size = *probe;
    }
    const std::uint32_t setting = table.setting_number(i);
    const auto key = std::make_tuple(setting, size.width, size.height, placement.BatchOf(i));
    auto found = known.find(key);
    if (found == known.end()) {
      const StyleOptions& o = table.options(i);
      const Result<ResolvedBackbone>& backbone = inputs.Backbone(o);
      Result<MemoryEstimate> estimate =
          backbone.ok() ? EstimateRunMemory(*backbone, o, size.width, size.height, device, placement.bands,
                                            placement.BatchOf(i))
                        : Result<MemoryEstimate>(backbone.status());
      if (!estimate.ok()) {
        return estimate.status().WithContext("job " + std::to_string(table.index(i)) + " (" +
                                             FileName(content.path) + ")");
      }
      found = known.emplace(key, *estimate).first;
    }
    estimates.push_back(found->second);
  }
  return estimates;
}

int LargestFittingSize(const JobSpec& job, std::int64_t limit_bytes, const std::string& models_dir, int bands,
                       int batch) {
  int low = 0, high = LargestStageSize(job.options) / 32;  // in units of 32 px
  while (low < high) {
    const int middle = (low + high + 1) / 2;
    Result<MemoryEstimate> estimate =
        EstimateWith(job, WithLargestSize(job.options, middle * 32), models_dir, "", bands, batch);
    if (estimate.ok() && estimate->device_required <= limit_bytes) low = middle;
    else high = middle - 1;
  }
  return low * 32;
}

Status CheckJobsFitMemory(const std::vector<JobSpec>& jobs, const std::vector<MemoryEstimate>& estimates,
                          std::int64_t limit_bytes, const std::string& models_dir, bool cuda_only,
                          const JobPlacement& placement) {
  const int bands = placement.bands;
  std::string message;
  int refused = 0;
  for (size_t i = 0; i < jobs.size() && i < estimates.size(); ++i) {
    if (estimates[i].device_required <= limit_bytes) continue;
    if (cuda_only && !RunsOnCuda(jobs[i])) continue;
    const JobSpec& job = jobs[i];
    const int batch = placement.BatchOf(i);
    ++refused;
    message += "\n  job " + std::to_string(job.index) + " (" + ShortKey(job.job_key) + ", " +
               FileName(job.content_path) + " at " + std::to_string(LargestStageSize(job.options)) +
               " px, " + job.options.backbone + ", " + std::to_string(job.options.style_layers.size()) +
               " style layers" + (bands > 1 ? ", split over " + std::to_string(bands) + " devices" : std::string()) +
               (batch > 1 ? ", in a batch of " + std::to_string(batch) : std::string()) + ") needs about " +
               FormatBytes(estimates[i].device_required) + ", more than the " + FormatBytes(limit_bytes) + " available";
    std::vector<std::string> hints;
    if (batch > 1) {
      if (const int fits = LargestFittingBatch(job, limit_bytes, models_dir, batch - 1); fits > 0) {
        hints.push_back("--batch-jobs " + std::to_string(fits) + " or less");
      }
    }
    if (const int size = LargestFittingSize(job, limit_bytes, models_dir, bands, batch); size > 0) {
      hints.push_back("size " + std::to_string(size) + " px or less");
    }
    if (job.options.style_layers.size() > 1) hints.push_back("fewer or shallower style layers");
    if (job.options.optimizer == "lbfgs" && job.options.lbfgs_history > 10) {
      hints.push_back("a smaller lbfgs_history (now " + std::to_string(job.options.lbfgs_history) + ")");
    }
    for (int more = bands * 2; more <= kMaxBandsSuggested; more *= 2) {
      Result<MemoryEstimate> band = EstimateWith(job, job.options, models_dir, "", more);
      if (band.ok() && band->device_required <= limit_bytes) {
        hints.push_back("a band split over " + std::to_string(more) + " devices (devices_per_job: " +
                        std::to_string(more) + " in the sweep, or stylesweep stylize --devices; about " +
                        FormatBytes(band->device_required) + " each)");
        break;
      }
    }
    if (!hints.empty()) {
      message += "; to fit: ";
      for (size_t h = 0; h < hints.size(); ++h) message += (h ? (h + 1 == hints.size() ? " or " : ", ") : "") + hints[h];
    }
  }
  if (refused == 0) return Status::Ok();
  return Status::OutOfMemory(std::to_string(refused) + " of " + std::to_string(jobs.size()) +
                             (jobs.size() == 1 ? " job" : " jobs") + (refused == 1 ? " does" : " do") + " not fit in " +
                             FormatBytes(limit_bytes) + " of device memory:" + message);
}

Status CheckJobsFitMemory(const std::vector<JobSpec>& jobs, std::int64_t limit_bytes, const std::string& models_dir,
                          bool cuda_only, const JobPlacement& placement) {
  SS_ASSIGN_OR_RETURN(std::vector<MemoryEstimate> estimates, EstimateJobsMemory(jobs, models_dir, "", placement));
  return CheckJobsFitMemory(jobs, estimates, limit_bytes, models_dir, cuda_only, placement);
}

int LargestFittingBatch(const JobSpec& job, std::int64_t limit_bytes, const std::string& models_dir, int max_batch) {
  Result<MemoryEstimate> one = EstimateWith(job, job.options, models_dir, "", 1, 1);
  if (!one.ok() || one->device_required > limit_bytes) return 0;
  int low = 1, high = std::max(1, max_batch);
  while (low < high) {
    const int middle = (low + high + 1) / 2;
    Result<MemoryEstimate> estimate = EstimateWith(job, job.options, models_dir, "", 1, middle);
    if (estimate.ok() && estimate->device_required <= limit_bytes) low = middle;
    else high = middle - 1;
  }
  return low;
}

bool RunsOnCuda(const JobSpec& job) { return job.options.device.rfind("cuda", 0) == 0; }

}  // namespace stylesweep
