#include "engine/band_transfer.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include <mpi.h>
#include <torch/torch.h>

#include "common/text.h"
#include "engine/backbone.h"
#include "engine/band_objective.h"
#include "engine/color.h"
#include "engine/image_io.h"
#include "engine/job_setup.h"
#include "engine/lbfgs.h"
#include "engine/mpi_collectives.h"
#include "engine/stage_optimizer.h"
#include "engine/tensor_image.h"
#if STYLESWEEP_HAVE_NCCL
#include "engine/nccl_collectives.h"
#endif

namespace stylesweep {
namespace {

constexpr char kOutOfMemoryHint[] = "(use more devices or a smaller --size)";

// The settings the band-split run does not implement.
Status CheckSupported(const StyleOptions& o) {
  if (o.optimizer != "lbfgs") {
    return Status::InvalidArgument("optimizer '" + o.optimizer +
                                   "' is not supported by the band-split run (--devices); use lbfgs");
  }
  return Status::Ok();
}

// Rank 0 reads the weights file; the others allocate the same tensors and
// receive rank 0's values.
Result<Backbone> LoadBroadcastBackbone(const PreparedJob& p, const std::string& models_dir, torch::Device device,
                                       const std::vector<std::string>& layers, Collectives& collectives) {
  BackboneLoadOptions load;
  load.weights_path = p.weights.path;
  load.models_dir = models_dir;
  load.device = device;
  load.channels_last = false;
  load.read_weights = collectives.rank() == 0;
  int deepest = -1;
  for (const auto& name : layers) deepest = std::max(deepest, FindLayer(p.spec, name));
  load.deepest_layer = p.spec.layers[deepest].name;
  SS_ASSIGN_OR_RETURN(Backbone backbone, Backbone::Load(p.spec, load));
  for (torch::Tensor& tensor : backbone.Parameters()) {
    SS_RETURN_IF_ERROR(collectives.Broadcast(tensor, 0).WithContext("broadcasting the weights"));
  }
  return backbone;
}

// The backbone a BandSplitGroup keeps between jobs: the last one loaded.
struct BackboneSlot {
  std::string key;
  std::shared_ptr<Backbone> backbone;
};

// Collective: the backbone for `p` on `device`, from `slot` when every rank
// has it there (the ranks agree, so none skips a broadcast the others make),
// else loaded by rank 0 and broadcast, and kept in `slot`. `slot` null: no
// cache.
Result<std::shared_ptr<Backbone>> GroupBackbone(const PreparedJob& p, const std::string& models_dir,
                                                torch::Device device, const std::vector<std::string>& layers,
                                                Collectives& collectives, BackboneSlot* slot) {
  int deepest = -1;
  for (const auto& name : layers) deepest = std::max(deepest, FindLayer(p.spec, name));
  const std::string key = p.spec.name + "|" + FileIdentity(p.weights.path) + "|" + p.spec.layers[deepest].name +
                          "|" + device.str();
  if (slot != nullptr) {
    torch::Tensor misses = torch::full({1}, slot->key == key && slot->backbone ? 0.0 : 1.0,
                                       torch::TensorOptions().dtype(torch::kFloat64).device(device));
    SS_RETURN_IF_ERROR(collectives.AllReduceSum(misses).WithContext("agreeing on the cached weights"));
    if (misses.item<double>() == 0) return slot->backbone;
    slot->backbone.reset();  // free the old weights before loading the new
  }
  SS_ASSIGN_OR_RETURN(Backbone loaded, LoadBroadcastBackbone(p, models_dir, device, layers, collectives));
  auto backbone = std::make_shared<Backbone>(std::move(loaded));
  if (slot != nullptr) *slot = BackboneSlot{key, backbone};
  return backbone;
}

// Collective: kInternal on every rank unless x is bitwise the same on all.
Status CheckRanksAgree(const torch::Tensor& x, Collectives& collectives) {
  const torch::Tensor flat = x.detach().reshape({-1}).to(torch::kFloat64);
  const torch::Tensor ramp = torch::arange(flat.numel(), flat.options()).remainder(9973).add(1);
  torch::Tensor local = torch::stack({flat.sum(), flat.mul(ramp).sum()});
  torch::Tensor root = local.clone();
  SS_RETURN_IF_ERROR(collectives.Broadcast(root, 0));
  torch::Tensor differs = local.ne(root).any().to(torch::kFloat64).reshape({1});
  SS_RETURN_IF_ERROR(collectives.AllReduceSum(differs));
  if (differs.item<double>() > 0) {
    return Status::Internal("the ranks ended with different images (" + std::to_string(differs.item<int>()) +
                            " rank(s) differ from rank 0): the collectives did not sum identically");
  }
  return Status::Ok();
}

// What every rank reads before the first collective: the job's settings,
// layers, weights file header and images.
struct LoadedJob {
  PreparedJob prepared;
  Image content;
  std::vector<Image> styles;
};

Result<LoadedJob> LoadJob(const StyleJob& job, const BandSplitConfig& config) {
  SS_RETURN_IF_ERROR(ValidateStyleOptions(job.options));
  SS_RETURN_IF_ERROR(CheckSupported(job.options));
  LoadedJob loaded;
  SS_ASSIGN_OR_RETURN(loaded.prepared, PrepareJob(job, config.models_dir));
  SS_RETURN_IF_ERROR(LoadJobImages(job, loaded.content, loaded.styles));
  return loaded;
}

// What every stage of one band-split run shares, and what it accumulates.
struct BandRun {
  const StyleOptions& options;
  const PreparedJob& prepared;
  const LoadedJob& loaded;
  const Backbone& backbone;
  Collectives& collectives;
  torch::Device device;
  const RunCallbacks& callbacks;
  Clock::time_point start;
  BandLossSettings settings;
  std::vector<std::string> all_layers;  // content and style layers, each once
  bool luminance_only = false;          // preserve_colors == "luminance"
  TransferResult& result;               // history, note and phase times land here
  int iteration = 0;                    // evaluations over all stages so far
};

BandLossSettings BandSettingsFor(const PreparedJob& prepared, const StyleOptions& o) {
  BandLossSettings settings;
  settings.content_layers = prepared.layers.content_layers;
  settings.style_layers = prepared.layers.style_layers;
  settings.style_layer_weights = prepared.layer_weights;
  settings.content_weight = o.content_weight;
  settings.style_weight = o.style_weight;
  settings.tv_weight = o.tv_weight;
  settings.memory_format = o.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  return settings;
}

// One stage's inputs at its size: this rank's content targets, the blended
// style Gram targets (collective), the band layout and the pixels the start
// image is drawn from.
struct BandStageTargets {
  BandLayout layout;
  std::vector<torch::Tensor> content;
  std::vector<torch::Tensor> style;
  torch::Tensor content_color;       // the content image in colour at this size
  torch::Tensor content_pixels;      // what the content loss sees (luminance when luminance_only)
  torch::Tensor first_style_pixels;  // the first style image as the loss sees it
};

// Collective: the style targets, every style image's Grams weighted by its blend.
Result<std::vector<torch::Tensor>> BandStyleBlend(BandRun& run, const ScaleStage& stage, BandStageTargets& t) {
  const StyleOptions& o = run.options;
  const int style_side = std::max(8, static_cast<int>(std::lround(stage.size * o.style_scale)));
  std::vector<torch::Tensor> style_targets(run.settings.style_layers.size());
  const std::vector<Image>& style_images = run.loaded.styles;
  for (size_t s = 0; s < style_images.size(); ++s) {
    SS_ASSIGN_OR_RETURN(Image style_resized, ResizeLongestSide(style_images[s], style_side, o.resize_filter));
    torch::Tensor style_pixels = ImageToPixels(style_resized).to(run.device);
    if (o.preserve_colors == "histogram") {
      style_pixels = MatchColorHistogram(style_pixels, t.content_color);
    } else if (run.luminance_only) {
      style_pixels = MatchLuminance(LuminanceImage(style_pixels), t.content_pixels);
    }
    if (s == 0) t.first_style_pixels = style_pixels;
    SS_ASSIGN_OR_RETURN(std::vector<torch::Tensor> grams,
                        BandStyleTargets(run.backbone, style_pixels, run.settings.style_layers, run.collectives,
                                         run.settings.memory_format));
    for (size_t l = 0; l < grams.size(); ++l) {
      const torch::Tensor weighted = grams[l] * run.prepared.blend[s];
      style_targets[l] = style_targets[l].defined() ? style_targets[l] + weighted : weighted;
    }
  }
  return style_targets;
}

// Collective: the targets of stage `stage_index`.
Result<BandStageTargets> BandTargetsFor(BandRun& run, const ScaleStage& stage, size_t stage_index) {
  const StyleOptions& o = run.options;
  SS_ASSIGN_OR_RETURN(Image content_resized, ResizeLongestSide(run.loaded.content, stage.size, o.resize_filter));
  BandStageTargets t;
  t.content_color = ImageToPixels(content_resized).to(run.device);
  t.content_pixels = run.luminance_only ? LuminanceImage(t.content_color) : t.content_color;
  const int64_t height = t.content_pixels.size(2);
  auto layout = PlanBands(run.prepared.spec, run.all_layers, static_cast<int>(height), run.collectives.size());
  if (!layout.ok()) return layout.status().WithContext("content image at " + std::to_string(stage.size) + " px");
  t.layout = std::move(layout).value();
  if (stage_index == 0) {
    run.result.note += std::string(run.result.note.empty() ? "" : "; ") + "band split: " + DescribeBandLayout(t.layout);
  }
  {
    torch::NoGradGuard no_grad;
    t.content = BandFeatures(run.backbone, t.content_pixels, t.layout, run.collectives.rank(),
                             run.settings.content_layers, run.settings.memory_format);
    for (auto& target : t.content) target = target.detach().clone();
  }
  SS_ASSIGN_OR_RETURN(t.style, BandStyleBlend(run, stage, t));
  return t;
}

// Records one evaluation in the run's history and hands it (and, every
// save_every iterations, a snapshot of `pixels`) to the callbacks.
void RecordBandIteration(BandRun& run, size_t stage_index, const BandEvaluation& evaluation,
                         const torch::Tensor& pixels, const torch::Tensor& content_color) {
  IterationRecord record;
  record.iteration = ++run.iteration;
  record.stage = static_cast<int>(stage_index);
  record.total_loss = evaluation.total;
  record.content_loss = evaluation.content;
  record.style_loss = evaluation.style;
  record.tv_loss = evaluation.tv;
  record.style_layer_losses = evaluation.style_layers;
  record.wall_seconds = SecondsSince(run.start);
  run.result.history.push_back(record);
  const RunCallbacks& callbacks = run.callbacks;
  if (callbacks.on_iteration) callbacks.on_iteration(record);
  if (run.options.save_every > 0 && callbacks.on_snapshot && record.iteration % run.options.save_every == 0) {
    torch::Tensor snapshot = run.luminance_only ? CombineLuminanceWithContentColor(pixels, content_color) : pixels;
    callbacks.on_snapshot(record.iteration, PixelsToImage(snapshot));
  }
}

// Collective: optimises stage `stage_index` from `x` (the previous stage's
// result, undefined before the first), leaving its result in `x`;
// `content_color` is set to the stage's content image in colour.
Status RunBandStage(BandRun& run, size_t stage_index, const ScaleStage& stage, torch::Tensor& x,
                    torch::Tensor& content_color, double& targets_seconds, double& optimize_seconds) {
  const StyleOptions& o = run.options;
  const auto stage_start = Clock::now();
  SS_ASSIGN_OR_RETURN(BandStageTargets targets, BandTargetsFor(run, stage, stage_index));
  content_color = targets.content_color;
  x = StartingPixels(o.init, stage_index, targets.content_pixels, targets.first_style_pixels, x, run.device)
          .contiguous();
  targets_seconds += SecondsSince(stage_start);

  const auto optimize_start = Clock::now();
  BandObjective band_objective(run.backbone, run.settings, std::move(targets.layout), run.collectives,
                               std::move(targets.content), std::move(targets.style));
  auto objective = [&run, &band_objective, &content_color, stage_index](const torch::Tensor& pixels,
                                                                        torch::Tensor& grad) -> Result<double> {
    const bool stop = run.callbacks.should_stop && run.callbacks.should_stop();
    auto evaluation = band_objective.Evaluate(pixels, grad, stop);
    if (!evaluation.ok()) {
      if (evaluation.status().code() == StatusCode::kCancelled) {
        return Status::Cancelled("stopped at iteration " + std::to_string(run.iteration));
      }
      return evaluation.status();
    }
    RecordBandIteration(run, stage_index, *evaluation, pixels, content_color);
    return evaluation->total;
  };
  auto outcome = MinimizeLbfgs(x, objective, LbfgsOptionsFor(StageOptionsFor(o, stage_index)));
  if (!outcome.ok()) {
    return outcome.status().WithContext("stage " + std::to_string(stage_index + 1) + " (" +
                                        std::to_string(stage.size) + " px)");
  }
  run.result.stop_reason = RunStopReason(outcome->stop_reason);
  optimize_seconds += SecondsSince(optimize_start);
  return Status::Ok();
}

Result<TransferResult> RunUnchecked(const StyleJob& job, const BandSplitConfig& config, Collectives& collectives,
                                    const std::string& device_text, const RunCallbacks& callbacks,
                                    BackboneSlot* cache) {
  const StyleOptions& o = job.options;
  const auto run_start = Clock::now();
  if (config.num_threads > 0) torch::set_num_threads(config.num_threads);
  SS_ASSIGN_OR_RETURN(torch::Device device, ParseDevice(device_text));
  Result<LoadedJob> loaded = LoadJob(job, config);
  SS_RETURN_IF_ERROR(AgreeOnStatus(loaded.status(), collectives, device, "while reading the job"));
  const PreparedJob& prepared = loaded->prepared;
  if (device.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(o.tf32);
    at::globalContext().setAllowTF32CuDNN(o.tf32);
  }
  torch::manual_seed(o.seed);
  const auto& content_layers = prepared.layers.content_layers;
  const auto& style_layers = prepared.layers.style_layers;
  const std::vector<std::string> all_layers = UnionOfLayerLists(content_layers, style_layers);
  SS_ASSIGN_OR_RETURN(std::shared_ptr<Backbone> shared_backbone,
                      GroupBackbone(prepared, config.models_dir, device, all_layers, collectives, cache));

  TransferResult result;
  result.content_layers = content_layers;
  result.style_layers = style_layers;
  result.weights_path = prepared.weights.path;
  result.device = device.str() + " (rank " + std::to_string(collectives.rank()) + " of " +
                  std::to_string(collectives.size()) + ", " + collectives.name() + ")";
  result.note = prepared.layers.note;
  result.phase_seconds["load"] = SecondsSince(run_start);

  BandRun run{o,           prepared, *loaded,  *shared_backbone,
              collectives, device,   callbacks, run_start,
              BandSettingsFor(prepared, o), all_layers, o.preserve_colors == "luminance", result};
  double targets_seconds = 0, optimize_seconds = 0;
  torch::Tensor x, content_color;
  const auto stages = EffectiveStages(o);
  for (size_t stage_index = 0; stage_index < stages.size(); ++stage_index) {
    SS_RETURN_IF_ERROR(RunBandStage(run, stage_index, stages[stage_index], x, content_color, targets_seconds,
                                    optimize_seconds));
  }
  result.stop_iteration = run.iteration;

  SS_RETURN_IF_ERROR(CheckRanksAgree(x, collectives));
  torch::Tensor final_pixels = x.clamp(0.0, kPixelScale);
  if (run.luminance_only) final_pixels = CombineLuminanceWithContentColor(final_pixels, content_color);
  result.image = PixelsToImage(final_pixels);
  result.phase_seconds["targets"] = targets_seconds;
  result.phase_seconds["optimize"] = optimize_seconds;
  return result;
}

// The collectives for this rank's device over `comm`.
Result<std::unique_ptr<Collectives>> CollectivesFor(MPI_Comm comm, const std::string& device) {
  if (device == "cpu") {
    SS_ASSIGN_OR_RETURN(std::unique_ptr<MpiCollectives> mpi, MpiCollectives::Create(comm));
    return std::unique_ptr<Collectives>(std::move(mpi));
  }
#if STYLESWEEP_HAVE_NCCL
  SS_ASSIGN_OR_RETURN(torch::Device cuda, ParseDevice(device));
  SS_ASSIGN_OR_RETURN(std::unique_ptr<NcclCollectives> nccl, NcclCollectives::Create(comm, cuda.index()));
  return std::unique_ptr<Collectives>(std::move(nccl));
#else
  return Status::Unavailable("device " + device +
                             ": this stylesweep was built without NCCL (a CPU-only LibTorch), so a band split "
                             "runs on cpu devices only");
#endif
}

// RunUnchecked with LibTorch's exceptions turned into a Status.
Result<TransferResult> RunGuarded(const StyleJob& job, const BandSplitConfig& config, Collectives& collectives,
                                  const std::string& device, const RunCallbacks& callbacks, BackboneSlot* cache) {
  try {
    return RunUnchecked(job, config, collectives, device, callbacks, cache);
  } catch (const std::exception& error) {
    return StatusFromException(error, "band-split style transfer of " + job.content_path + " on rank " +
                                          std::to_string(collectives.rank()),
                               kOutOfMemoryHint);
  }
}

}  // namespace

Result<TransferResult> RunBandSplitWith(const StyleJob& job, const BandSplitConfig& config,
                                        Collectives& collectives, const std::string& device,
                                        const RunCallbacks& callbacks) {
  return RunGuarded(job, config, collectives, device, callbacks, nullptr);
}

Result<TransferResult> RunBandSplit(const StyleJob& job, const BandSplitConfig& config,
                                    const RunCallbacks& callbacks) {
  const int devices = static_cast<int>(config.devices.size());
  if (devices == 0) return Status::InvalidArgument("no devices given for the band split");
  int initialized = 0;
  MPI_Initialized(&initialized);
  int rank = 0, size = 1;
  if (initialized) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  if (size != devices) {
    const std::string list = JoinStrings(config.devices);
    return Status::InvalidArgument(std::to_string(devices) + " devices (" + list + ") need " +
                                   std::to_string(devices) + " MPI ranks, one per device, but this is " +
                                   std::to_string(size) + " rank(s); run: mpiexec -n " + std::to_string(devices) +
                                   " stylesweep stylize --devices " + list + " ...");
  }
  const bool first_is_cpu = config.devices.front() == "cpu";
  for (const auto& d : config.devices) {
    if ((d == "cpu") != first_is_cpu) {
      return Status::InvalidArgument("--devices mixes cpu and cuda devices; a band split runs on one kind");
    }
  }
  const std::string& device = config.devices[static_cast<size_t>(rank)];
  if (size == 1 && !initialized) {
    LocalCollectives local;
    return RunBandSplitWith(job, config, local, device, callbacks);
  }
  BandSplitGroup group(MPI_COMM_WORLD, config.models_dir, config.num_threads);
  return group.Run(job, device, callbacks);
}

struct BandSplitGroup::Impl {
  MPI_Comm comm;
  BandSplitConfig config;
  std::map<std::string, std::unique_ptr<Collectives>> collectives;  // by device
  BackboneSlot backbone;                                            // the last job's, for the next
};

BandSplitGroup::BandSplitGroup(MPI_Comm comm, std::string models_dir, int num_threads) : impl_(new Impl) {
  impl_->comm = comm;
  impl_->config.models_dir = std::move(models_dir);
  impl_->config.num_threads = num_threads;
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
}

BandSplitGroup::~BandSplitGroup() = default;

Result<TransferResult> BandSplitGroup::Run(const StyleJob& job, const std::string& device,
                                           const RunCallbacks& callbacks) {
  auto found = impl_->collectives.find(device);
  if (found == impl_->collectives.end()) {
    Result<std::unique_ptr<Collectives>> made = Status::Internal("unset");
    try {
      made = CollectivesFor(impl_->comm, device);
    } catch (const std::exception& error) {
      return StatusFromException(error, "setting up collectives on rank " + std::to_string(rank_), kOutOfMemoryHint);
    }
    if (!made.ok()) return made.status().WithContext("rank " + std::to_string(rank_));
    found = impl_->collectives.emplace(device, std::move(made).value()).first;
  }
  return RunGuarded(job, impl_->config, *found->second, device, callbacks, &impl_->backbone);
}

}  // namespace stylesweep
