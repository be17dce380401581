#include "engine/style_transfer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <list>
#include <set>

#include <torch/torch.h>

#include "engine/backbone.h"
#include "engine/color.h"
#include "engine/image_io.h"
#include "engine/lbfgs.h"
#include "engine/losses.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Join(const std::vector<std::string>& items, const char* separator = ",") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

Result<torch::Device> ParseDevice(const std::string& text) {
  if (text == "cpu") return torch::Device(torch::kCPU);
  if (text.rfind("cuda", 0) != 0) return Status::InvalidArgument("device '" + text + "' is not cpu, cuda or cuda:N");
  std::string reason;
  if (!CudaAvailable(&reason)) {
    return Status::Unavailable("device " + text + " was asked for, but " + reason + "; use --device cpu");
  }
  int index = 0;
  if (text.size() > 5) index = std::stoi(text.substr(5));
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    return Status::Unavailable("device " + text + " does not exist: " + std::to_string(count) + " CUDA device(s)");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

// A file's identity for caches: path, size and modification time.
std::string FileIdentity(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  const auto time = std::filesystem::last_write_time(path, error).time_since_epoch().count();
  return path + "@" + std::to_string(size) + "@" + std::to_string(time);
}

// The unique layers a run must compute, content first then style.
std::vector<std::string> UnionOfLayers(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto* list : {&a, &b}) {
    for (const auto& name : *list) {
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

Status StatusFromException(const std::exception& error, const std::string& context) {
  std::string message = error.what();
  // LibTorch appends a C++ stack trace after the first line; users need the first line.
  const auto newline = message.find('\n');
  if (newline != std::string::npos) message = message.substr(0, newline);
  if (message.find("out of memory") != std::string::npos || message.find("OutOfMemory") != std::string::npos ||
      message.find("not enough memory") != std::string::npos) {
    return Status::OutOfMemory(context + ": " + message + " (try a smaller --size or --lbfgs-history)");
  }
  return Status::Internal(context + ": " + message);
}

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

struct StageImages {
  torch::Tensor content;          // pixels for the content target (luminance image if asked)
  torch::Tensor content_color;    // the content in colour at the stage size (for luminance recombination)
  std::vector<torch::Tensor> styles;
};

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

 private:
  struct Prepared {
    BackboneSpec spec;
    WeightsInfo weights;
    ResolvedLayers layers;
    std::vector<double> layer_weights;
    std::vector<double> blend;
  };
  Result<Prepared> Prepare(const StyleJob& job) const;
  Result<std::shared_ptr<Backbone>> GetBackbone(const Prepared& prepared, const StyleOptions& options,
                                                torch::Device device);
  std::vector<torch::Tensor> StyleTargets(const Backbone& backbone, const std::string& style_key,
                                          const torch::Tensor& style_pixels,
                                          const std::vector<std::string>& style_layers, bool* cached);
  Result<TransferResult> RunUnchecked(const StyleJob& job, const RunCallbacks& callbacks);

  EngineConfig config_;
  std::map<std::string, std::shared_ptr<Backbone>> backbones_;
  // Least recently used first.
  std::list<std::pair<std::string, std::vector<torch::Tensor>>> target_cache_;
};

Result<StyleTransfer::Impl::Prepared> StyleTransfer::Impl::Prepare(const StyleJob& job) const {
  const StyleOptions& o = job.options;
  SS_RETURN_IF_ERROR(ValidateStyleOptions(o));
  if (job.style_paths.empty()) return Status::InvalidArgument("no style image given");
  if (!o.style_blend.empty() && o.style_blend.size() != job.style_paths.size()) {
    return Status::InvalidArgument("style_blend has " + std::to_string(o.style_blend.size()) + " weights for " +
                                   std::to_string(job.style_paths.size()) + " style images");
  }
  Prepared prepared;
  SS_ASSIGN_OR_RETURN(prepared.spec, GetBackboneSpec(o.backbone, o.pooling));
  SS_ASSIGN_OR_RETURN(prepared.weights, InspectWeights(prepared.spec, o.weights, config_.models_dir));
  auto layers = ResolveLayers(prepared.spec, prepared.weights.available_layers, o.content_layers, o.style_layers);
  if (!layers.ok()) return layers.status().WithContext(o.backbone + " weights " + prepared.weights.path);
  prepared.layers = std::move(layers).value();
  const size_t num_style_layers = prepared.layers.style_layers.size();
  if (!o.style_layer_weights.empty() && o.style_layer_weights.size() != num_style_layers) {
    return Status::InvalidArgument("style_layer_weights has " + std::to_string(o.style_layer_weights.size()) +
                                   " values for " + std::to_string(num_style_layers) + " style layers (" +
                                   Join(prepared.layers.style_layers) + ")");
  }
  prepared.layer_weights = o.style_layer_weights;
  if (prepared.layer_weights.empty()) prepared.layer_weights.assign(num_style_layers, 1.0 / num_style_layers);
  prepared.blend = o.style_blend;
  if (prepared.blend.empty()) prepared.blend.assign(job.style_paths.size(), 1.0);
  double blend_sum = 0;
  for (double b : prepared.blend) blend_sum += b;
  if (!(blend_sum > 0)) return Status::InvalidArgument("style_blend weights sum to zero");
  for (double& b : prepared.blend) b /= blend_sum;
  return prepared;
}

Status StyleTransfer::Impl::Validate(const StyleJob& job) const {
  SS_ASSIGN_OR_RETURN(Prepared prepared, Prepare(job));
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
  try {
    return RunUnchecked(job, callbacks);
  } catch (const std::exception& error) {
    return StatusFromException(error, "style transfer of " + job.content_path);
  }
}

Result<TransferResult> StyleTransfer::Impl::RunUnchecked(const StyleJob& job, const RunCallbacks& callbacks) {
  const StyleOptions& o = job.options;
  const auto run_start = Clock::now();
  TransferResult result;
  SS_ASSIGN_OR_RETURN(Prepared prepared, Prepare(job));
  SS_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(o.device));
  if (device.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(o.tf32);
    at::globalContext().setAllowTF32CuDNN(o.tf32);
    at::globalContext().setBenchmarkCuDNN(true);
  }
  torch::manual_seed(o.seed);
  result.content_layers = prepared.layers.content_layers;
  result.style_layers = prepared.layers.style_layers;
  result.weights_path = prepared.weights.path;
  result.device = device.str();
  result.note = prepared.layers.note;

  SS_ASSIGN_OR_RETURN(std::shared_ptr<Backbone> backbone, GetBackbone(prepared, o, device));
  auto content_image = LoadImage(job.content_path);
  if (!content_image.ok()) return content_image.status().WithContext("content image");
  std::vector<Image> style_images;
  for (const auto& path : job.style_paths) {
    auto style = LoadImage(path);
    if (!style.ok()) return style.status().WithContext("style image");
    style_images.push_back(std::move(style).value());
  }
  result.phase_seconds["load"] = SecondsSince(run_start);

  const auto& content_layers = prepared.layers.content_layers;
  const auto& style_layers = prepared.layers.style_layers;
  const std::vector<std::string> all_layers = UnionOfLayers(content_layers, style_layers);
  const bool luminance_only = o.preserve_colors == "luminance";
  const auto memory_format = o.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  auto to_input = [&](const torch::Tensor& pixels) {
    return PixelsToNetworkInput(pixels, backbone->input_convention()).contiguous(memory_format);
  };

  double targets_seconds = 0, optimize_seconds = 0;
  bool all_cached = true;
  int iteration = 0;
  torch::Tensor x;              // pixels being optimised, [1, 3, H, W], 0..255
  torch::Tensor content_color;  // the content at the current stage size, in colour
  const auto stages = EffectiveStages(o);

  for (size_t stage_index = 0; stage_index < stages.size(); ++stage_index) {
    const ScaleStage& stage = stages[stage_index];
    auto stage_start = Clock::now();
    // Images at this stage's size.
    SS_ASSIGN_OR_RETURN(Image content_resized,
                        ResizeLongestSide(*content_image, stage.size, o.resize_filter));
    content_color = ImageToPixels(content_resized).to(device);
    torch::Tensor content_pixels = luminance_only ? LuminanceImage(content_color) : content_color;
    const int style_side = std::max(8, static_cast<int>(std::lround(stage.size * o.style_scale)));

    // Targets: content features and the blended style Gram matrices.
    std::vector<torch::Tensor> content_targets;
    {
      torch::NoGradGuard no_grad;
      content_targets = backbone->Forward(to_input(content_pixels), content_layers);
      for (auto& t : content_targets) t = t.detach();
    }
    std::vector<torch::Tensor> style_targets(style_layers.size());
    torch::Tensor first_style_pixels;
    for (size_t s = 0; s < style_images.size(); ++s) {
      SS_ASSIGN_OR_RETURN(Image style_resized, ResizeLongestSide(style_images[s], style_side, o.resize_filter));
      torch::Tensor style_pixels = ImageToPixels(style_resized).to(device);
      std::string key = FileIdentity(job.style_paths[s]) + "|" + std::to_string(style_side) + "|" + o.resize_filter +
                        "|" + backbone->weights_path() + "|" + o.backbone + "|" + o.pooling + "|" + device.str() +
                        "|" + Join(style_layers) + "|" + o.preserve_colors;
      if (o.preserve_colors == "histogram") {
        style_pixels = MatchColorHistogram(style_pixels, content_color);
        key += "|" + FileIdentity(job.content_path) + "@" + std::to_string(stage.size);
      } else if (luminance_only) {
        style_pixels = MatchLuminance(LuminanceImage(style_pixels), content_pixels);
        key += "|" + FileIdentity(job.content_path) + "@" + std::to_string(stage.size);
      }
      if (s == 0) first_style_pixels = style_pixels;
      bool cached = false;
      auto grams = StyleTargets(*backbone, key, style_pixels, style_layers, &cached);
      all_cached = all_cached && cached;
      for (size_t l = 0; l < grams.size(); ++l) {
        auto weighted = grams[l] * prepared.blend[s];
        style_targets[l] = style_targets[l].defined() ? style_targets[l] + weighted : weighted;
      }
    }

    // The starting image of this stage.
    const int64_t height = content_pixels.size(2), width = content_pixels.size(3);
    if (stage_index == 0) {
      if (o.init == "noise") {
        x = torch::rand({1, 3, height, width}, torch::TensorOptions().dtype(torch::kFloat32)).mul(kPixelScale).to(device);
      } else if (o.init == "style") {
        x = ResizePixels(first_style_pixels, static_cast<int>(height), static_cast<int>(width)).clamp(0, kPixelScale);
      } else {
        x = content_pixels.clone();
      }
    } else {
      x = ResizePixels(x, static_cast<int>(height), static_cast<int>(width));
    }
    x = x.contiguous();
    targets_seconds += SecondsSince(stage_start);

    // The objective on the paper's scale.
    auto optimize_start = Clock::now();
    Status callback_status;
    auto objective = [&](const torch::Tensor& pixels, torch::Tensor& grad) -> Result<double> {
      if (callbacks.should_stop && callbacks.should_stop()) {
        return Status::Cancelled("stopped at iteration " + std::to_string(iteration));
      }
      torch::AutoGradMode enable_grad(true);  // the optimisers run under NoGradGuard
      torch::Tensor leaf = pixels.detach().requires_grad_(true);
      torch::Tensor features_input = to_input(leaf);
      auto features = backbone->Forward(features_input, all_layers);
      IterationRecord record;
      record.iteration = ++iteration;
      record.stage = static_cast<int>(stage_index);
      torch::Tensor total = torch::zeros({}, leaf.options());
      torch::Tensor content_sum = torch::zeros({}, leaf.options());
      for (size_t c = 0; c < content_layers.size(); ++c) {
        const size_t at = std::find(all_layers.begin(), all_layers.end(), content_layers[c]) - all_layers.begin();
        content_sum = content_sum + ContentLoss(features[at], content_targets[c]);
      }
      std::vector<torch::Tensor> style_terms;
      torch::Tensor style_sum = torch::zeros({}, leaf.options());
      for (size_t l = 0; l < style_layers.size(); ++l) {
        const size_t at = std::find(all_layers.begin(), all_layers.end(), style_layers[l]) - all_layers.begin();
        auto e = StyleLayerLoss(features[at], style_targets[l]);
        style_terms.push_back(e);
        style_sum = style_sum + e * prepared.layer_weights[l];
      }
      torch::Tensor tv = o.tv_weight > 0 ? TotalVariation(leaf) : torch::zeros({}, leaf.options());
      total = content_sum * o.content_weight + style_sum * o.style_weight + tv * o.tv_weight;
      total.backward();
      grad.copy_(leaf.grad());

      // One host read-back for every number of the record.
      std::vector<torch::Tensor> scalars = {total.detach(), content_sum.detach(), style_sum.detach(), tv.detach()};
      for (auto& e : style_terms) scalars.push_back(e.detach());
      auto host = torch::stack(scalars).to(torch::kCPU, torch::kFloat64);
      const double* values = host.data_ptr<double>();
      record.total_loss = values[0];
      record.content_loss = values[1];
      record.style_loss = values[2];
      record.tv_loss = values[3];
      record.style_layer_losses.assign(values + 4, values + 4 + style_terms.size());
      record.wall_seconds = SecondsSince(run_start);
      result.history.push_back(record);
      if (callbacks.on_iteration) callbacks.on_iteration(record);
      if (o.save_every > 0 && callbacks.on_snapshot && record.iteration % o.save_every == 0) {
        torch::Tensor snapshot = luminance_only ? CombineLuminanceWithContentColor(pixels, content_color) : pixels;
        callbacks.on_snapshot(record.iteration, PixelsToImage(snapshot));
      }
      return record.total_loss;  // NaN/Inf included: L-BFGS halves the step, Adam stops
    };

    if (o.optimizer == "lbfgs") {
      LbfgsOptions lbfgs;
      lbfgs.max_evaluations = stage.num_iterations;
      lbfgs.history_size = o.lbfgs_history;
      lbfgs.tolerance_change = o.lbfgs_tolerance;
      lbfgs.normalize = o.normalize_objective;
      auto outcome = MinimizeLbfgs(x, objective, lbfgs);
      if (!outcome.ok()) {
        return outcome.status().WithContext("stage " + std::to_string(stage_index + 1) + " (" +
                                            std::to_string(stage.size) + " px)");
      }
    } else {
      torch::Tensor param = x.detach().clone().requires_grad_(true);
      torch::optim::Adam adam({param}, torch::optim::AdamOptions(o.learning_rate));
      torch::Tensor grad = torch::zeros_like(param);
      for (int i = 0; i < stage.num_iterations; ++i) {
        auto loss = objective(param.detach(), grad);
        if (!loss.ok()) return loss.status();
        if (!std::isfinite(*loss)) {
          return Status::NumericalError("the loss became NaN/Inf at iteration " + std::to_string(iteration) +
                                        " (try a smaller --learning-rate)");
        }
        param.mutable_grad() = grad.clone();
        adam.step();
      }
      x = param.detach();
    }
    optimize_seconds += SecondsSince(optimize_start);
  }

  torch::Tensor final_pixels = x.clamp(0.0, kPixelScale);
  if (luminance_only) final_pixels = CombineLuminanceWithContentColor(final_pixels, content_color);
  result.image = PixelsToImage(final_pixels);
  result.phase_seconds["targets"] = targets_seconds;
  result.phase_seconds["optimize"] = optimize_seconds;
  result.style_targets_cached = all_cached;
  return result;
}

StyleTransfer::StyleTransfer(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
StyleTransfer::~StyleTransfer() = default;

Result<TransferResult> StyleTransfer::Run(const StyleJob& job, const RunCallbacks& callbacks) {
  return impl_->Run(job, callbacks);
}

Status StyleTransfer::Validate(const StyleJob& job) const {
  try {
    return impl_->Validate(job);
  } catch (const std::exception& error) {
    return StatusFromException(error, "validating " + job.content_path);
  }
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
