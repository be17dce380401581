#include "engine/style_transfer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <list>
#include <set>

#include <torch/torch.h>

#include "common/text.h"
#include "engine/backbone.h"
#include "engine/color.h"
#include "engine/image_io.h"
#include "engine/job_setup.h"
#include "engine/lbfgs_batch.h"
#include "engine/losses.h"
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

class StyleTransfer::Impl {
 public:
  explicit Impl(EngineConfig config) : config_(std::move(config)) {
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
  using Prepared = PreparedJob;
  Result<std::shared_ptr<Backbone>> GetBackbone(const Prepared& prepared, const StyleOptions& options,
                                                torch::Device device);
  std::vector<torch::Tensor> StyleTargets(const Backbone& backbone, const std::string& style_key,
                                          const torch::Tensor& style_pixels,
                                          const std::vector<std::string>& style_layers, bool* cached);
  // One job of a RunBatch call while it runs.
  struct Member {
    const StyleJob* job = nullptr;
    const RunCallbacks* callbacks = nullptr;
    Prepared prepared;
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
  // Prepares a job and loads its images (phase "load").
  Status LoadMember(Member& member) const;
  // Runs members of one batch group; failures land in each member's status.
  void RunGroup(const std::vector<Member*>& group);
  Status RunGroupUnchecked(const std::vector<Member*>& group);

  EngineConfig config_;
  std::map<std::string, std::shared_ptr<Backbone>> backbones_;
  // Least recently used first.
  std::list<std::pair<std::string, std::vector<torch::Tensor>>> target_cache_;
};

Status StyleTransfer::Impl::Validate(const StyleJob& job) const {
  SS_ASSIGN_OR_RETURN(Prepared prepared, PrepareJob(job, config_.models_dir));
  (void)prepared;
  SS_RETURN_IF_ERROR(CheckImageHeader(job.content_path).WithContext("content image"));
  for (const auto& path : job.style_paths) SS_RETURN_IF_ERROR(CheckImageHeader(path).WithContext("style image"));
  return Status::Ok();
}

Result<std::shared_ptr<Backbone>> StyleTransfer::Impl::GetBackbone(const Prepared& prepared,
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

std::vector<torch::Tensor> StyleTransfer::Impl::StyleTargets(const Backbone& backbone, const std::string& style_key,
                                                             const torch::Tensor& style_pixels,
                                                             const std::vector<std::string>& style_layers,
                                                             bool* cached) {
  for (auto it = target_cache_.begin(); it != target_cache_.end(); ++it) {
    if (it->first == style_key) {
      target_cache_.splice(target_cache_.end(), target_cache_, it);
      *cached = true;
      return target_cache_.back().second;
    }
  }
  *cached = false;
  torch::NoGradGuard no_grad;
  auto input = PixelsToNetworkInput(style_pixels, backbone.input_convention());
  if (backbone.spec().layers.front().op == LayerOp::kConv) input = input.contiguous(torch::MemoryFormat::ChannelsLast);
  auto features = backbone.Forward(input, style_layers);
  std::vector<torch::Tensor> grams;
  for (const auto& f : features) grams.push_back(NormalizedGram(f));
  if (config_.max_cached_targets > 0) {
    target_cache_.emplace_back(style_key, grams);
    while (target_cache_.size() > config_.max_cached_targets) target_cache_.pop_front();
  }
  return grams;
}

Result<TransferResult> StyleTransfer::Impl::Run(const StyleJob& job, const RunCallbacks& callbacks) {
  std::vector<Result<TransferResult>> results = RunBatch({job}, {callbacks});
  return std::move(results.front());
}

Status StyleTransfer::Impl::LoadMember(Member& member) const {
  const StyleJob& job = *member.job;
  SS_ASSIGN_OR_RETURN(member.prepared, PrepareJob(job, config_.models_dir));
  SS_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(job.options.device, kNoCudaHint));
  (void)device;
  SS_RETURN_IF_ERROR(LoadJobImages(job, member.content_image, member.style_images));
  member.luminance_only = job.options.preserve_colors == "luminance";
  TransferResult& result = member.result;
  result.content_layers = member.prepared.layers.content_layers;
  result.style_layers = member.prepared.layers.style_layers;
  result.weights_path = member.prepared.weights.path;
  result.note = member.prepared.layers.note;
  result.phase_seconds["load"] = SecondsSince(member.start);
  return Status::Ok();
}

std::vector<Result<TransferResult>> StyleTransfer::Impl::RunBatch(const std::vector<StyleJob>& jobs,
                                                                  const std::vector<RunCallbacks>& callbacks) {
  static const RunCallbacks kNoCallbacks;
  std::vector<Member> members(jobs.size());
  std::vector<std::string> group_keys;                       // in order of first appearance
  std::map<std::string, std::vector<Member*>> groups;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Member& member = members[i];
    member.job = &jobs[i];
    member.callbacks = i < callbacks.size() ? &callbacks[i] : &kNoCallbacks;
    member.start = Clock::now();
    try {
      member.status = LoadMember(member);
    } catch (const std::exception& error) {
      member.status = StatusFromException(error, "style transfer of " + jobs[i].content_path, kOutOfMemoryHint);
    }
    if (!member.status.ok()) continue;
    const StyleOptions& o = jobs[i].options;
    std::string key = o.optimizer == "lbfgs" ? BatchCompatibilityKey(o) + "|" +
                                                   std::to_string(member.content_image.width) + "x" +
                                                   std::to_string(member.content_image.height)
                                             : "alone#" + std::to_string(i);
    if (groups.find(key) == groups.end()) group_keys.push_back(key);
    groups[key].push_back(&member);
  }
  for (const std::string& key : group_keys) RunGroup(groups[key]);

  std::vector<Result<TransferResult>> results;
  results.reserve(members.size());
  for (Member& member : members) {
    if (member.status.ok()) results.emplace_back(std::move(member.result));
    else results.emplace_back(member.status);
  }
  return results;
}

void StyleTransfer::Impl::RunGroup(const std::vector<Member*>& group) {
  Status status;
  try {
    status = RunGroupUnchecked(group);
  } catch (const std::exception& error) {
    for (Member* member : group) {
      if (member->status.ok()) member->status = StatusFromException(error, "style transfer of " + member->job->content_path,
                                                                    kOutOfMemoryHint);
    }
    return;
  }
  if (status.ok()) return;
  for (Member* member : group) {
    if (member->status.ok()) member->status = status;
  }
}

Status StyleTransfer::Impl::RunGroupUnchecked(const std::vector<Member*>& group) {
  const StyleOptions& o = group.front()->job->options;  // the settings the group shares
  const Prepared& shared = group.front()->prepared;
  SS_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(o.device, kNoCudaHint));
  if (device.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(o.tf32);
    at::globalContext().setAllowTF32CuDNN(o.tf32);
    at::globalContext().setBenchmarkCuDNN(true);
  }
  const auto backbone_start = Clock::now();
  SS_ASSIGN_OR_RETURN(std::shared_ptr<Backbone> backbone, GetBackbone(shared, o, device));
  const double backbone_seconds = SecondsSince(backbone_start);
  for (Member* member : group) {
    member->result.device = device.str();
    member->result.phase_seconds["load"] += backbone_seconds;
  }

  const auto& content_layers = shared.layers.content_layers;
  const auto& style_layers = shared.layers.style_layers;
  const std::vector<std::string> all_layers = UnionOfLayerLists(content_layers, style_layers);
  const auto memory_format = o.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  auto to_input = [&](const torch::Tensor& pixels) {
    return PixelsToNetworkInput(pixels, backbone->input_convention()).contiguous(memory_format);
  };
  auto position = [&](const std::string& layer) {
    return static_cast<size_t>(std::find(all_layers.begin(), all_layers.end(), layer) - all_layers.begin());
  };
  const auto float_options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto per_job = [&](const std::vector<double>& values) {
    return torch::tensor(values, torch::TensorOptions().dtype(torch::kFloat64)).to(float_options);
  };

  double targets_seconds = 0, optimize_seconds = 0;
  const auto stages = EffectiveStages(o);
  for (size_t stage_index = 0; stage_index < stages.size(); ++stage_index) {
    const ScaleStage& stage = stages[stage_index];
    const auto stage_start = Clock::now();
    const int style_side = std::max(8, static_cast<int>(std::lround(stage.size * o.style_scale)));

    // Per job: images at this stage's size, targets and starting image.
    std::vector<Member*> members;
    std::vector<torch::Tensor> contents, starts;
    std::vector<std::vector<torch::Tensor>> grams;  // [job][style layer]
    for (Member* member : group) {
      if (!member->status.ok()) continue;
      const StyleJob& job = *member->job;
      const StyleOptions& mo = job.options;
      auto content_resized = ResizeLongestSide(member->content_image, stage.size, o.resize_filter);
      if (!content_resized.ok()) {
        member->status = content_resized.status();
        continue;
      }
      member->content_color = ImageToPixels(*content_resized).to(device);
      torch::Tensor content_pixels = member->luminance_only ? LuminanceImage(member->content_color) : member->content_color;
      std::vector<torch::Tensor> style_targets(style_layers.size());
      torch::Tensor first_style_pixels;
      Status style_status;
      for (size_t s = 0; s < member->style_images.size() && style_status.ok(); ++s) {
        auto style_resized = ResizeLongestSide(member->style_images[s], style_side, o.resize_filter);
        if (!style_resized.ok()) {
          style_status = style_resized.status();
          break;
        }
        torch::Tensor style_pixels = ImageToPixels(*style_resized).to(device);
        std::string key = FileIdentity(job.style_paths[s]) + "|" + std::to_string(style_side) + "|" +
                          o.resize_filter + "|" + backbone->weights_path() + "|" + o.backbone + "|" + o.pooling +
                          "|" + device.str() + "|" + JoinStrings(style_layers) + "|" + mo.preserve_colors;
        if (mo.preserve_colors == "histogram") {
          style_pixels = MatchColorHistogram(style_pixels, member->content_color);
          key += "|" + FileIdentity(job.content_path) + "@" + std::to_string(stage.size);
        } else if (member->luminance_only) {
          style_pixels = MatchLuminance(LuminanceImage(style_pixels), content_pixels);
          key += "|" + FileIdentity(job.content_path) + "@" + std::to_string(stage.size);
        }
        if (s == 0) first_style_pixels = style_pixels;
        bool cached = false;
        auto layer_grams = StyleTargets(*backbone, key, style_pixels, style_layers, &cached);
        member->all_cached = member->all_cached && cached;
        for (size_t l = 0; l < layer_grams.size(); ++l) {
          auto weighted = layer_grams[l] * member->prepared.blend[s];
          style_targets[l] = style_targets[l].defined() ? style_targets[l] + weighted : weighted;
        }
      }
      if (!style_status.ok()) {
        member->status = style_status;
        continue;
      }
      if (stage_index == 0 && mo.init == "noise") torch::manual_seed(mo.seed);
      torch::Tensor x = StartingPixels(mo.init, stage_index, content_pixels, first_style_pixels, member->x, device);
      members.push_back(member);
      contents.push_back(content_pixels);
      starts.push_back(x);
      grams.push_back(std::move(style_targets));
    }
    if (members.empty()) break;
    const int64_t batch = static_cast<int64_t>(members.size());

    // Batched targets and per-job weights.
    std::vector<torch::Tensor> content_targets;
    {
      torch::NoGradGuard no_grad;
      content_targets = backbone->Forward(to_input(torch::cat(contents)), content_layers);
      for (auto& t : content_targets) t = t.detach();
    }
    std::vector<torch::Tensor> style_targets(style_layers.size());
    for (size_t l = 0; l < style_layers.size(); ++l) {
      std::vector<torch::Tensor> layer;
      for (const auto& job_grams : grams) layer.push_back(job_grams[l]);
      style_targets[l] = torch::stack(layer);
    }
    std::vector<double> alpha, beta, tv_weight, layer_weights;
    bool any_tv = false;
    for (Member* member : members) {
      const StyleOptions& mo = member->job->options;
      alpha.push_back(mo.content_weight);
      beta.push_back(mo.style_weight);
      tv_weight.push_back(mo.tv_weight > 0 ? mo.tv_weight : 0.0);
      any_tv = any_tv || mo.tv_weight > 0;
      for (double w : member->prepared.layer_weights) layer_weights.push_back(w);
    }
    const torch::Tensor alpha_t = per_job(alpha), beta_t = per_job(beta), tv_t = per_job(tv_weight);
    // TV is reported 0 for jobs that do not use it, as Run() does.
    const torch::Tensor tv_used = (tv_t > 0).to(torch::kFloat32);
    const torch::Tensor layer_weights_t =
        per_job(layer_weights).view({batch, static_cast<int64_t>(style_layers.size())});
    torch::Tensor x = torch::cat(starts).contiguous();
    targets_seconds += SecondsSince(stage_start);

    // Losses stay on the device; Flush() reads them back in one transfer and
    // delivers the records (and the snapshots) of the jobs that were running.
    struct PendingEvaluation {
      torch::Tensor values;  // [B, 4 + L]: total, content, style, tv, E_l
      torch::Tensor active;  // [B] bool
      std::vector<double> wall_seconds;
    };
    struct PendingSnapshot {
      size_t job;
      size_t evaluation;     // index into `pending`
      torch::Tensor pixels;  // [1, 3, H, W]
    };
    std::vector<PendingEvaluation> pending;
    std::vector<PendingSnapshot> snapshots;
    std::vector<Status> host_stops(batch);
    auto flush = [&]() -> Status {
      if (pending.empty()) return Status::Ok();
      std::vector<torch::Tensor> rows;
      for (const auto& p : pending) {
        rows.push_back(torch::cat({p.values.to(torch::kFloat64), p.active.to(torch::kFloat64).unsqueeze(1)}, 1));
      }
      const torch::Tensor host = torch::stack(rows).to(torch::kCPU).contiguous();
      const auto values = host.accessor<double, 3>();
      const int64_t columns = host.size(2) - 1;
      std::vector<std::vector<int>> iteration_at(pending.size(), std::vector<int>(batch, 0));
      for (size_t e = 0; e < pending.size(); ++e) {
        for (int64_t b = 0; b < batch; ++b) {
          if (values[e][b][columns] == 0) continue;
          Member& member = *members[b];
          IterationRecord record;
          record.iteration = ++member.iteration;
          record.stage = static_cast<int>(stage_index);
          record.total_loss = values[e][b][0];
          record.content_loss = values[e][b][1];
          record.style_loss = values[e][b][2];
          record.tv_loss = values[e][b][3];
          for (int64_t l = 4; l < columns; ++l) record.style_layer_losses.push_back(values[e][b][l]);
          record.wall_seconds = pending[e].wall_seconds[b];
          iteration_at[e][b] = record.iteration;
          member.result.history.push_back(record);
          if (member.callbacks->on_iteration) member.callbacks->on_iteration(record);
        }
      }
      for (const PendingSnapshot& snapshot : snapshots) {
        const int iteration = iteration_at[snapshot.evaluation][snapshot.job];
        if (iteration == 0) continue;
        Member& member = *members[snapshot.job];
        torch::Tensor pixels = member.luminance_only
                                   ? CombineLuminanceWithContentColor(snapshot.pixels, member.content_color)
                                   : snapshot.pixels;
        member.callbacks->on_snapshot(iteration, PixelsToImage(pixels));
      }
      pending.clear();
      snapshots.clear();
      for (Member* member : members) member->pending = 0;
      return Status::Ok();
    };

    auto objective = [&](const torch::Tensor& pixels, torch::Tensor& grad, const torch::Tensor& active,
                         std::vector<Status>& job_errors) -> Result<torch::Tensor> {
      bool any_running = false;
      for (int64_t b = 0; b < batch; ++b) {
        Member& member = *members[b];
        if (!host_stops[b].ok()) continue;
        if (member.callbacks->should_stop && member.callbacks->should_stop()) {
          host_stops[b] = Status::Cancelled("stopped at iteration " + std::to_string(member.iteration + member.pending));
          job_errors[b] = host_stops[b];
        } else {
          any_running = true;
        }
      }
      if (!any_running) {
        for (const Status& stop : host_stops) {
          if (!stop.ok()) return stop;
        }
      }
      torch::AutoGradMode enable_grad(true);  // the optimisers run under NoGradGuard
      torch::Tensor leaf = pixels.detach().requires_grad_(true);
      auto features = backbone->Forward(to_input(leaf), all_layers);
      torch::Tensor content_sum = torch::zeros({batch}, leaf.options());
      for (size_t c = 0; c < content_layers.size(); ++c) {
        content_sum = content_sum + BatchContentLoss(features[position(content_layers[c])], content_targets[c]);
      }
      std::vector<torch::Tensor> columns;
      torch::Tensor style_sum = torch::zeros({batch}, leaf.options());
      for (size_t l = 0; l < style_layers.size(); ++l) {
        auto e = BatchStyleLayerLoss(features[position(style_layers[l])], style_targets[l]);
        columns.push_back(e);
        style_sum = style_sum + e * layer_weights_t.select(1, static_cast<int64_t>(l));
      }
      torch::Tensor tv = any_tv ? BatchTotalVariation(leaf) * tv_used : torch::zeros({batch}, leaf.options());
      torch::Tensor total = content_sum * alpha_t + style_sum * beta_t + tv * tv_t;
      total.sum().backward();
      grad.copy_(leaf.grad());

      columns.insert(columns.begin(), {total, content_sum, style_sum, tv});
      PendingEvaluation evaluation{torch::stack(columns, 1).detach(), active.clone(), {}};
      for (int64_t b = 0; b < batch; ++b) {
        Member& member = *members[b];
        evaluation.wall_seconds.push_back(SecondsSince(member.start));
        if (!host_stops[b].ok()) continue;
        ++member.pending;
        const int save_every = member.job->options.save_every;
        if (save_every > 0 && member.callbacks->on_snapshot && (member.iteration + member.pending) % save_every == 0) {
          snapshots.push_back({static_cast<size_t>(b), pending.size(), pixels.narrow(0, b, 1).clone()});
        }
      }
      pending.push_back(std::move(evaluation));
      return total.detach();  // NaN/Inf included: L-BFGS halves the step, Adam stops
    };

    const auto optimize_start = Clock::now();
    const std::string stage_context =
        "stage " + std::to_string(stage_index + 1) + " (" + std::to_string(stage.size) + " px)";
    if (o.optimizer == "lbfgs") {
      BatchLbfgsOptions lbfgs;
      lbfgs.lbfgs.max_evaluations = stage.num_iterations;
      lbfgs.lbfgs.history_size = o.lbfgs_history;
      lbfgs.lbfgs.tolerance_change = o.lbfgs_tolerance;
      lbfgs.lbfgs.normalize = o.normalize_objective;
      lbfgs.sync_every = config_.sync_every;
      lbfgs.on_sync = flush;
      auto outcome = MinimizeLbfgsBatch(x, objective, lbfgs);
      SS_RETURN_IF_ERROR(flush());
      for (int64_t b = 0; b < batch; ++b) {
        Status job_status = outcome.ok() ? (*outcome)[b].status : outcome.status();
        if (!outcome.ok() && !host_stops[b].ok()) job_status = host_stops[b];
        if (!job_status.ok()) members[b]->status = job_status.WithContext(stage_context);
      }
    } else {
      torch::Tensor param = x.detach().clone().requires_grad_(true);
      torch::optim::Adam adam({param}, torch::optim::AdamOptions(o.learning_rate));
      torch::Tensor grad = torch::zeros_like(param);
      const torch::Tensor active = torch::ones({batch}, torch::TensorOptions().dtype(torch::kBool).device(device));
      for (int i = 0; i < stage.num_iterations; ++i) {
        std::vector<Status> job_errors(batch);
        auto loss = objective(param.detach(), grad, active, job_errors);
        SS_RETURN_IF_ERROR(flush());
        bool failed = !loss.ok();
        for (int64_t b = 0; b < batch; ++b) {
          Member& member = *members[b];
          if (!loss.ok()) member.status = loss.status();
          else if (!job_errors[b].ok()) member.status = job_errors[b];
          else if (!std::isfinite(member.result.history.back().total_loss)) {
            member.status = Status::NumericalError("the loss became NaN/Inf at iteration " +
                                                   std::to_string(member.iteration) + " (try a smaller --learning-rate)");
          }
          failed = failed || !member.status.ok();
        }
        if (failed) break;
        param.mutable_grad() = grad.clone();
        adam.step();
      }
      x = param.detach();
    }
    for (int64_t b = 0; b < batch; ++b) members[b]->x = x.narrow(0, b, 1).clone();
    optimize_seconds += SecondsSince(optimize_start);
  }

  for (Member* member : group) {
    if (!member->status.ok()) continue;
    torch::Tensor final_pixels = member->x.clamp(0.0, kPixelScale);
    if (member->luminance_only) final_pixels = CombineLuminanceWithContentColor(final_pixels, member->content_color);
    member->result.image = PixelsToImage(final_pixels);
    member->result.phase_seconds["targets"] = targets_seconds;
    member->result.phase_seconds["optimize"] = optimize_seconds;
    member->result.style_targets_cached = member->all_cached;
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
