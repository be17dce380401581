#include "engine/style_transfer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include <torch/torch.h>

#include "common/text.h"
#include "engine/backbone.h"
#include "engine/color.h"
#include "engine/image_io.h"
#include "engine/job_setup.h"
#include "engine/losses.h"
#include "engine/objective.h"
#include "engine/stage_optimizer.h"
#include "engine/style_target_cache.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

constexpr char kOutOfMemoryHint[] = "(try a smaller --size or --lbfgs-history)";
constexpr char kNoCudaHint[] = "; use --device cpu";

// Reads an image's header and refuses what LoadImage would refuse by size
// alone, so Validate catches a 100000x100000 file before a sweep queues it.
Status CheckImageHeader(const std::string& path) {
  auto info = ReadImageInfo(path);
  if (!info.ok()) return info.status();
  const std::int64_t pixels = static_cast<std::int64_t>(info->width) * info->height;
  if (pixels > kMaxDecodedPixels) {
    return Status::InvalidArgument(path + ": " + std::to_string(info->width) + "x" + std::to_string(info->height) +
                                   " pixels is more than the " + std::to_string(kMaxDecodedPixels) +
                                   " (16384x16384) the engine decodes; shrink the image first");
  }
  return Status::Ok();
}

}  // namespace

namespace {

// One job of a RunBatch call while it runs.
struct RunningJob {
  const StyleJob* job = nullptr;
  const RunCallbacks* callbacks = nullptr;
  PreparedJob prepared;
  Image content_image;
  std::vector<Image> style_images;
  TransferResult result;
  Status status;                // the job's first failure; a failed job leaves its group
  bool luminance_only = false;  // preserve_colors == "luminance"
  bool all_cached = true;       // every style target so far came from the cache
  int iteration = 0;            // records delivered so far, across stages
  int pending = 0;              // evaluations since the last delivery while the host saw it running
  torch::Tensor x;              // [1, 3, H, W] pixels being optimised, 0..255
  torch::Tensor content_color;  // the content at the current stage size, in colour
  Clock::time_point start;
};

// One stage's inputs, for the jobs of a group still running.
struct StageBatch {
  std::vector<RunningJob*> jobs;
  std::vector<torch::Tensor> contents;            // [1, 3, H, W] each, what the content loss compares with
  std::vector<torch::Tensor> starts;              // [1, 3, H, W] each, the starting pixels
  std::vector<std::vector<torch::Tensor>> grams;  // [job][style layer] blended NormalizedGram targets
};

// What every job of a stage shares while its inputs are prepared.
struct StageContext {
  const Backbone& backbone;
  torch::Device device;
  size_t stage_index;
  int size;        // the content's longest side this stage, px
  int style_side;  // the style images' longest side this stage, px
};

// One stage's loss records and snapshots. Losses stay on the device;
// Flush() reads every queued evaluation back in one transfer and delivers
// the records (and snapshots) of the jobs that were running. The calling
// thread only.
class StageRecorder {
 public:
  StageRecorder(std::vector<RunningJob*> jobs, size_t stage_index)
      : jobs_(std::move(jobs)), stage_index_(stage_index), host_stops_(jobs_.size()) {}

  // Asks every job still running whether it should stop; a job that should
  // gets kCancelled in `job_errors` (and keeps it). Returns the first such
  // status once no job runs, else OK.
  Status PollStops(std::vector<Status>& job_errors);

  // Queues one evaluation: `values` [B, 4 + L] (StyleObjective::Evaluate),
  // `active` [B] bool, and the pixels, of which the snapshots due are kept.
  void Queue(const torch::Tensor& values, const torch::Tensor& active, const torch::Tensor& pixels);

  // Delivers what is queued.
  Status Flush();

  const Status& host_stop(size_t job) const { return host_stops_[job]; }

 private:
  struct PendingEvaluation {
    torch::Tensor values;  // [B, 4 + L]
    torch::Tensor active;  // [B] bool
    std::vector<double> wall_seconds;
  };
  struct PendingSnapshot {
    size_t job;
    size_t evaluation;     // index into pending_
    torch::Tensor pixels;  // [1, 3, H, W]
  };
  void Deliver(const torch::Tensor& host, std::vector<std::vector<int>>& iteration_at);
  void DeliverSnapshots(const std::vector<std::vector<int>>& iteration_at);

  std::vector<RunningJob*> jobs_;
  size_t stage_index_;
  std::vector<Status> host_stops_;
  std::vector<PendingEvaluation> pending_;
  std::vector<PendingSnapshot> snapshots_;
};

Status StageRecorder::PollStops(std::vector<Status>& job_errors) {
  bool any_running = false;
  for (size_t b = 0; b < jobs_.size(); ++b) {
    RunningJob& job = *jobs_[b];
    if (!host_stops_[b].ok()) continue;
    if (job.callbacks->should_stop && job.callbacks->should_stop()) {
      host_stops_[b] = Status::Cancelled("stopped at iteration " + std::to_string(job.iteration + job.pending));
      job_errors[b] = host_stops_[b];
    } else {
      any_running = true;
    }
  }
  if (any_running) return Status::Ok();
  for (const Status& stop : host_stops_) {
    if (!stop.ok()) return stop;
  }
  return Status::Ok();
}

void StageRecorder::Queue(const torch::Tensor& values, const torch::Tensor& active, const torch::Tensor& pixels) {
  PendingEvaluation evaluation{values, active.clone(), {}};
  for (size_t b = 0; b < jobs_.size(); ++b) {
    RunningJob& job = *jobs_[b];
    evaluation.wall_seconds.push_back(SecondsSince(job.start));
    if (!host_stops_[b].ok()) continue;
    ++job.pending;
    const int save_every = job.job->options.save_every;
    if (save_every > 0 && job.callbacks->on_snapshot && (job.iteration + job.pending) % save_every == 0) {
      snapshots_.push_back({b, pending_.size(), pixels.narrow(0, static_cast<int64_t>(b), 1).clone()});
    }
  }
  pending_.push_back(std::move(evaluation));
}

Status StageRecorder::Flush() {
  if (pending_.empty()) return Status::Ok();
  std::vector<torch::Tensor> rows;
  for (const auto& p : pending_) {
    rows.push_back(torch::cat({p.values.to(torch::kFloat64), p.active.to(torch::kFloat64).unsqueeze(1)}, 1));
  }
  const torch::Tensor host = torch::stack(rows).to(torch::kCPU).contiguous();
  std::vector<std::vector<int>> iteration_at(pending_.size(), std::vector<int>(jobs_.size(), 0));
  Deliver(host, iteration_at);
  DeliverSnapshots(iteration_at);
  pending_.clear();
  snapshots_.clear();
  for (RunningJob* job : jobs_) job->pending = 0;
  return Status::Ok();
}

void StageRecorder::Deliver(const torch::Tensor& host, std::vector<std::vector<int>>& iteration_at) {
  const auto values = host.accessor<double, 3>();
  const int64_t columns = host.size(2) - 1;  // the last column is `active`
  for (size_t e = 0; e < pending_.size(); ++e) {
    for (size_t b = 0; b < jobs_.size(); ++b) {
      const auto row = values[static_cast<int64_t>(e)][static_cast<int64_t>(b)];
      if (row[columns] == 0) continue;
      RunningJob& job = *jobs_[b];
      IterationRecord record;
      record.iteration = ++job.iteration;
      record.stage = static_cast<int>(stage_index_);
      record.total_loss = row[StyleObjective::kTotal];
      record.content_loss = row[StyleObjective::kContent];
      record.style_loss = row[StyleObjective::kStyle];
      record.tv_loss = row[StyleObjective::kTv];
      for (int64_t l = StyleObjective::kFirstStyleLayer; l < columns; ++l) record.style_layer_losses.push_back(row[l]);
      record.wall_seconds = pending_[e].wall_seconds[b];
      iteration_at[e][b] = record.iteration;
      job.result.history.push_back(record);
      if (job.callbacks->on_iteration) job.callbacks->on_iteration(record);
    }
  }
}

void StageRecorder::DeliverSnapshots(const std::vector<std::vector<int>>& iteration_at) {
  for (const PendingSnapshot& snapshot : snapshots_) {
    const int iteration = iteration_at[snapshot.evaluation][snapshot.job];
    if (iteration == 0) continue;
    RunningJob& job = *jobs_[snapshot.job];
    torch::Tensor pixels =
        job.luminance_only ? CombineLuminanceWithContentColor(snapshot.pixels, job.content_color) : snapshot.pixels;
    job.callbacks->on_snapshot(iteration, PixelsToImage(pixels));
  }
}

// The stacked per-job inputs of a stage's objective.
StyleObjective MakeStageObjective(const Backbone& backbone, const PreparedJob& shared, const StyleOptions& o,
                                  const StageBatch& batch) {
  const auto memory_format = o.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  ObjectiveLayers layers{shared.layers.content_layers, shared.layers.style_layers};
  std::vector<torch::Tensor> content_targets =
      StyleObjective::ContentTargets(backbone, torch::cat(batch.contents), layers.content, memory_format);
  std::vector<torch::Tensor> style_targets(layers.style.size());
  for (size_t l = 0; l < layers.style.size(); ++l) {
    std::vector<torch::Tensor> layer;
    for (const auto& job_grams : batch.grams) layer.push_back(job_grams[l]);
    style_targets[l] = torch::stack(layer);
  }
  std::vector<LossWeights> weights;
  for (const RunningJob* job : batch.jobs) {
    const StyleOptions& jo = job->job->options;
    weights.push_back({jo.content_weight, jo.style_weight, jo.tv_weight, job->prepared.layer_weights});
  }
  return StyleObjective(backbone, std::move(layers), memory_format, std::move(content_targets),
                        std::move(style_targets), ObjectiveWeights::Of(weights, batch.contents.front().device()));
}

}  // namespace

class StyleTransfer::Impl {
 public:
  explicit Impl(EngineConfig config) : config_(std::move(config)), target_cache_(config_.max_cached_targets) {
    // 0 keeps LibTorch's own default. Forcing set_num_threads(2) on this
    // 2-core machine sped single 256 px runs up but made a sweep of small
    // jobs 2-3x slower (OpenMP and OpenBLAS threads competing; see
    // docs/BENCHMARKS.md), so it is opt-in through --threads.
    if (config_.num_threads > 0) torch::set_num_threads(config_.num_threads);
  }

  Status Validate(const StyleJob& job) const;
  Result<TransferResult> Run(const StyleJob& job, const RunCallbacks& callbacks);
  std::vector<Result<TransferResult>> RunBatch(const std::vector<StyleJob>& jobs,
                                               const std::vector<RunCallbacks>& callbacks);

 private:
  Result<std::shared_ptr<Backbone>> GetBackbone(const PreparedJob& prepared, const StyleOptions& options,
                                                torch::Device device);
  // The NormalizedGram targets of one style image, from the cache or computed.
  std::vector<torch::Tensor> StyleTargets(const Backbone& backbone, const StyleTargetKey& key,
                                          const torch::Tensor& style_pixels,
                                          const std::vector<std::string>& style_layers, bool* cached);
  // Prepares a job and loads its images (phase "load").
  Status LoadJob(RunningJob& job) const;
  // Runs the jobs of one batch group; failures land in each job's status.
  void RunGroup(const std::vector<RunningJob*>& group);
  Status RunGroupUnchecked(const std::vector<RunningJob*>& group);
  // One stage of a group: prepares its inputs, optimises, keeps each job's x.
  Status RunStage(const std::vector<RunningJob*>& group, const Backbone& backbone, size_t stage_index,
                  double& targets_seconds, double& optimize_seconds);
  // Adds one job's inputs at this stage's size to `batch`; a failure lands
  // in the job's status and leaves it out.
  void PrepareJobStage(RunningJob& job, const StageContext& stage, StageBatch& batch);
  // The blended style targets of a job's style images at this stage.
  Result<std::vector<torch::Tensor>> BlendedStyleTargets(RunningJob& job, const StageContext& stage,
                                                         const torch::Tensor& content_pixels,
                                                         torch::Tensor& first_style_pixels);
  // Runs the stage's optimiser over the batch and records each job's outcome.
  Status OptimizeBatch(const StageBatch& batch, const StyleObjective& objective, size_t stage_index,
                       torch::Tensor& x);

  EngineConfig config_;
  std::map<std::string, std::shared_ptr<Backbone>> backbones_;
  StyleTargetCache target_cache_;
};

Status StyleTransfer::Impl::Validate(const StyleJob& job) const {
  SS_ASSIGN_OR_RETURN(PreparedJob prepared, PrepareJob(job, config_.models_dir));
  (void)prepared;
  SS_RETURN_IF_ERROR(CheckImageHeader(job.content_path).WithContext("content image"));
  for (const auto& path : job.style_paths) SS_RETURN_IF_ERROR(CheckImageHeader(path).WithContext("style image"));
  return Status::Ok();
}

Result<std::shared_ptr<Backbone>> StyleTransfer::Impl::GetBackbone(const PreparedJob& prepared,
                                                                   const StyleOptions& options,
                                                                   torch::Device device) {
  const std::string key = prepared.spec.name + "|" + options.pooling + "|" + FileIdentity(prepared.weights.path) +
                          "|" + device.str() + "|" + (options.channels_last ? "cl" : "nchw");
  auto it = backbones_.find(key);
  if (it != backbones_.end()) return it->second;
  BackboneLoadOptions load;
  load.weights_path = prepared.weights.path;
  load.models_dir = config_.models_dir;
  load.device = device;
  load.channels_last = options.channels_last;
  SS_ASSIGN_OR_RETURN(Backbone backbone, Backbone::Load(prepared.spec, load));
  auto shared = std::make_shared<Backbone>(std::move(backbone));
  backbones_[key] = shared;
  return shared;
}

std::vector<torch::Tensor> StyleTransfer::Impl::StyleTargets(const Backbone& backbone, const StyleTargetKey& key,
                                                             const torch::Tensor& style_pixels,
                                                             const std::vector<std::string>& style_layers,
                                                             bool* cached) {
  return target_cache_.GetOrCompute(
      key,
      [&] {
        torch::NoGradGuard no_grad;
        auto input = PixelsToNetworkInput(style_pixels, backbone.input_convention());
        if (backbone.spec().layers.front().op == LayerOp::kConv) {
          input = input.contiguous(torch::MemoryFormat::ChannelsLast);
        }
        std::vector<torch::Tensor> grams;
        for (const auto& f : backbone.Forward(input, style_layers)) grams.push_back(NormalizedGram(f));
        return grams;
      },
      cached);
}

Result<TransferResult> StyleTransfer::Impl::Run(const StyleJob& job, const RunCallbacks& callbacks) {
  std::vector<Result<TransferResult>> results = RunBatch({job}, {callbacks});
  return std::move(results.front());
}

Status StyleTransfer::Impl::LoadJob(RunningJob& running) const {
  const StyleJob& job = *running.job;
  SS_ASSIGN_OR_RETURN(running.prepared, PrepareJob(job, config_.models_dir));
  SS_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(job.options.device, kNoCudaHint));
  (void)device;
  SS_RETURN_IF_ERROR(LoadJobImages(job, running.content_image, running.style_images));
  running.luminance_only = job.options.preserve_colors == "luminance";
  TransferResult& result = running.result;
  result.content_layers = running.prepared.layers.content_layers;
  result.style_layers = running.prepared.layers.style_layers;
  result.weights_path = running.prepared.weights.path;
  result.note = running.prepared.layers.note;
  result.phase_seconds["load"] = SecondsSince(running.start);
  return Status::Ok();
}

std::vector<Result<TransferResult>> StyleTransfer::Impl::RunBatch(const std::vector<StyleJob>& jobs,
                                                                  const std::vector<RunCallbacks>& callbacks) {
  static const RunCallbacks kNoCallbacks;
  std::vector<RunningJob> running(jobs.size());
  std::vector<std::string> group_keys;  // in order of first appearance
  std::map<std::string, std::vector<RunningJob*>> groups;
  for (size_t i = 0; i < jobs.size(); ++i) {
    RunningJob& job = running[i];
    job.job = &jobs[i];
    job.callbacks = i < callbacks.size() ? &callbacks[i] : &kNoCallbacks;
    job.start = Clock::now();
    try {
      job.status = LoadJob(job);
    } catch (const std::exception& error) {
      job.status = StatusFromException(error, "style transfer of " + jobs[i].content_path, kOutOfMemoryHint);
    }
    if (!job.status.ok()) continue;
    const StyleOptions& o = jobs[i].options;
    std::string key = o.optimizer == "lbfgs" ? BatchCompatibilityKey(o) + "|" +
                                                   std::to_string(job.content_image.width) + "x" +
                                                   std::to_string(job.content_image.height)
                                             : "alone#" + std::to_string(i);
    if (groups.find(key) == groups.end()) group_keys.push_back(key);
    groups[key].push_back(&job);
  }
  for (const std::string& key : group_keys) RunGroup(groups[key]);

  std::vector<Result<TransferResult>> results;
  results.reserve(running.size());
  for (RunningJob& job : running) {
    if (job.status.ok()) results.emplace_back(std::move(job.result));
    else results.emplace_back(job.status);
  }
  return results;
}

void StyleTransfer::Impl::RunGroup(const std::vector<RunningJob*>& group) {
  Status status;
  try {
    status = RunGroupUnchecked(group);
  } catch (const std::exception& error) {
    for (RunningJob* job : group) {
      if (job->status.ok()) {
        job->status = StatusFromException(error, "style transfer of " + job->job->content_path, kOutOfMemoryHint);
      }
    }
    return;
  }
  if (status.ok()) return;
  for (RunningJob* job : group) {
    if (job->status.ok()) job->status = status;
  }
}

Status StyleTransfer::Impl::RunGroupUnchecked(const std::vector<RunningJob*>& group) {
  const StyleOptions& o = group.front()->job->options;  // the settings the group shares
  SS_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(o.device, kNoCudaHint));
  if (device.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(o.tf32);
    at::globalContext().setAllowTF32CuDNN(o.tf32);
    at::globalContext().setBenchmarkCuDNN(true);
  }
  const auto backbone_start = Clock::now();
  SS_ASSIGN_OR_RETURN(std::shared_ptr<Backbone> backbone, GetBackbone(group.front()->prepared, o, device));
  const double backbone_seconds = SecondsSince(backbone_start);
  for (RunningJob* job : group) {
    job->result.device = device.str();
    job->result.phase_seconds["load"] += backbone_seconds;
  }

  double targets_seconds = 0, optimize_seconds = 0;
  const size_t num_stages = EffectiveStages(o).size();
  for (size_t stage_index = 0; stage_index < num_stages; ++stage_index) {
    SS_RETURN_IF_ERROR(RunStage(group, *backbone, stage_index, targets_seconds, optimize_seconds));
  }

  for (RunningJob* job : group) {
    if (!job->status.ok()) continue;
    torch::Tensor final_pixels = job->x.clamp(0.0, kPixelScale);
    if (job->luminance_only) final_pixels = CombineLuminanceWithContentColor(final_pixels, job->content_color);
    job->result.image = PixelsToImage(final_pixels);
    job->result.phase_seconds["targets"] = targets_seconds;
    job->result.phase_seconds["optimize"] = optimize_seconds;
    job->result.style_targets_cached = job->all_cached;
    job->result.stop_iteration = job->iteration;
  }
  return Status::Ok();
}

Status StyleTransfer::Impl::RunStage(const std::vector<RunningJob*>& group, const Backbone& backbone,
                                     size_t stage_index, double& targets_seconds, double& optimize_seconds) {
  const StyleOptions& o = group.front()->job->options;
  const ScaleStage stage = EffectiveStages(o)[stage_index];
  const auto stage_start = Clock::now();
  SS_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(o.device, kNoCudaHint));
  const StageContext context{backbone, device, stage_index, stage.size,
                             std::max(8, static_cast<int>(std::lround(stage.size * o.style_scale)))};
  StageBatch batch;
  for (RunningJob* job : group) {
    if (job->status.ok()) PrepareJobStage(*job, context, batch);
  }
  if (batch.jobs.empty()) return Status::Ok();
  const StyleObjective objective = MakeStageObjective(backbone, group.front()->prepared, o, batch);
  torch::Tensor x = torch::cat(batch.starts).contiguous();
  targets_seconds += SecondsSince(stage_start);

  const auto optimize_start = Clock::now();
  SS_RETURN_IF_ERROR(OptimizeBatch(batch, objective, stage_index, x));
  for (size_t b = 0; b < batch.jobs.size(); ++b) batch.jobs[b]->x = x.narrow(0, static_cast<int64_t>(b), 1).clone();
  optimize_seconds += SecondsSince(optimize_start);
  return Status::Ok();
}

void StyleTransfer::Impl::PrepareJobStage(RunningJob& job, const StageContext& stage, StageBatch& batch) {
  const StyleOptions& o = job.job->options;
  auto content_resized = ResizeLongestSide(job.content_image, stage.size, o.resize_filter);
  if (!content_resized.ok()) {
    job.status = content_resized.status();
    return;
  }
  job.content_color = ImageToPixels(*content_resized).to(stage.device);
  torch::Tensor content_pixels = job.luminance_only ? LuminanceImage(job.content_color) : job.content_color;
  torch::Tensor first_style_pixels;
  auto grams = BlendedStyleTargets(job, stage, content_pixels, first_style_pixels);
  if (!grams.ok()) {
    job.status = grams.status();
    return;
  }
  if (stage.stage_index == 0 && o.init == "noise") torch::manual_seed(o.seed);
  batch.starts.push_back(
      StartingPixels(o.init, stage.stage_index, content_pixels, first_style_pixels, job.x, stage.device));
  batch.jobs.push_back(&job);
  batch.contents.push_back(content_pixels);
  batch.grams.push_back(std::move(grams).value());
}

Result<std::vector<torch::Tensor>> StyleTransfer::Impl::BlendedStyleTargets(RunningJob& job,
                                                                            const StageContext& stage,
                                                                            const torch::Tensor& content_pixels,
                                                                            torch::Tensor& first_style_pixels) {
  const StyleOptions& o = job.job->options;
  const std::vector<std::string>& style_layers = job.prepared.layers.style_layers;
  std::vector<torch::Tensor> blended(style_layers.size());
  for (size_t s = 0; s < job.style_images.size(); ++s) {
    SS_ASSIGN_OR_RETURN(Image style_resized, ResizeLongestSide(job.style_images[s], stage.style_side, o.resize_filter));
    torch::Tensor style_pixels = ImageToPixels(style_resized).to(stage.device);
    StyleTargetKey key{FileIdentity(job.job->style_paths[s]), stage.style_side, o.resize_filter,
                       stage.backbone.weights_path(), o.backbone, o.pooling, stage.device.str(),
                       JoinStrings(style_layers), o.preserve_colors, "", 0};
    if (o.preserve_colors == "histogram" || job.luminance_only) {
      style_pixels = job.luminance_only ? MatchLuminance(LuminanceImage(style_pixels), content_pixels)
                                        : MatchColorHistogram(style_pixels, job.content_color);
      key.content_file = FileIdentity(job.job->content_path);
      key.content_side = stage.size;
    }
    if (s == 0) first_style_pixels = style_pixels;
    bool cached = false;
    auto layer_grams = StyleTargets(stage.backbone, key, style_pixels, style_layers, &cached);
    job.all_cached = job.all_cached && cached;
    for (size_t l = 0; l < layer_grams.size(); ++l) {
      auto weighted = layer_grams[l] * job.prepared.blend[s];
      blended[l] = blended[l].defined() ? blended[l] + weighted : weighted;
    }
  }
  return blended;
}

Status StyleTransfer::Impl::OptimizeBatch(const StageBatch& batch, const StyleObjective& objective,
                                          size_t stage_index, torch::Tensor& x) {
  const StyleOptions& o = batch.jobs.front()->job->options;
  StageRecorder recorder(batch.jobs, stage_index);
  auto evaluate = [&](const torch::Tensor& pixels, torch::Tensor& grad, const torch::Tensor& active,
                      std::vector<Status>& job_errors) -> Result<torch::Tensor> {
    SS_RETURN_IF_ERROR(recorder.PollStops(job_errors));
    const torch::Tensor values = objective.Evaluate(pixels, grad);
    recorder.Queue(values, active, pixels);
    return values.select(1, StyleObjective::kTotal);  // NaN/Inf included: L-BFGS halves the step, Adam stops
  };
  StageOptimizerOptions options = StageOptionsFor(o, stage_index);
  options.sync_every = config_.sync_every > 0 ? config_.sync_every : (x.device().is_cpu() ? 1 : 20);
  options.iterations_before = batch.jobs.front()->iteration;
  SS_ASSIGN_OR_RETURN(StageOutcome outcome, OptimizeStage(x, evaluate, options, [&] { return recorder.Flush(); }));
  const ScaleStage stage = EffectiveStages(o)[stage_index];
  const std::string stage_context =
      "stage " + std::to_string(stage_index + 1) + " (" + std::to_string(stage.size) + " px)";
  for (size_t b = 0; b < batch.jobs.size(); ++b) {
    Status status = outcome.jobs[b];
    if (o.optimizer != "lbfgs") {
      if (!status.ok()) batch.jobs[b]->status = status;  // Adam's errors name the iteration themselves
      continue;
    }
    if (!outcome.all.ok() && !recorder.host_stop(b).ok()) status = recorder.host_stop(b);
    if (!status.ok()) batch.jobs[b]->status = status.WithContext(stage_context);
    if (status.ok() && b < outcome.stop_reasons.size()) {
      batch.jobs[b]->result.stop_reason = RunStopReason(outcome.stop_reasons[b]);
    }
  }
  return Status::Ok();
}

StyleTransfer::StyleTransfer(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
StyleTransfer::~StyleTransfer() = default;

Result<TransferResult> StyleTransfer::Run(const StyleJob& job, const RunCallbacks& callbacks) {
  return impl_->Run(job, callbacks);
}

std::vector<Result<TransferResult>> StyleTransfer::RunBatch(const std::vector<StyleJob>& jobs,
                                                            const std::vector<RunCallbacks>& callbacks) {
  return impl_->RunBatch(jobs, callbacks);
}

Status StyleTransfer::Validate(const StyleJob& job) const {
  try {
    return impl_->Validate(job);
  } catch (const std::exception& error) {
    return StatusFromException(error, "validating " + job.content_path, kOutOfMemoryHint);
  }
}

bool BatchCompatible(const StyleJob& a, const StyleJob& b) {
  return a.options.optimizer == "lbfgs" && BatchCompatibilityKey(a.options) == BatchCompatibilityKey(b.options);
}

bool CudaAvailable(std::string* reason) {
  if (torch::cuda::is_available()) return true;
  if (reason != nullptr) {
    *reason = torch::cuda::device_count() == 0 && !torch::hasCUDA()
                  ? "this stylesweep was built with a CPU-only LibTorch"
                  : "no CUDA device is visible";
  }
  return false;
}

std::string EngineBuildInfo() {
  return std::string("LibTorch ") + TORCH_VERSION + (torch::hasCUDA() ? " (CUDA)" : " (CPU)");
}

}  // namespace stylesweep
