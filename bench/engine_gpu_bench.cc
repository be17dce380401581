// Milliseconds per iteration of the engine at 256/512/1024 px for each
// backbone, against the arithmetic floor of engine/flop_count.h: the number
// docs/BENCHMARKS.md ("GPU") records with the GPU model, command and commit.
//
// Two benchmarks per backbone and size (square S x S images, so the floor
// matches the "512 px" figure):
//   BM_Iteration  a real StyleTransfer::Run with L-BFGS: the median wall time
//                 between consecutive loss evaluations (each ends with a host
//                 read-back, so the device is synchronised) over the last
//                 --iterations of them, once the history is full (the run
//                 makes history + iterations evaluations), after a warm-up
//                 run that loads the network, caches the style targets and
//                 lets cuDNN pick its algorithms.
//   BM_Objective  forward + losses + backward to the pixels alone, with the
//                 device synchronised after each: the network's share.
// Counters: GFLOP (per iteration, the floor's numerator), TFLOP/s achieved,
// and with --peak-tflops the floor in ms and the fraction of it achieved.
//
// Flags (before Google Benchmark's own):
//   --device cpu|cuda[:N]     default cuda when visible, else cpu
//   --sizes 256,512,1024      default 256,512,1024 on CUDA, 256 on the CPU
//   --vgg19-weights PATH      default the shared prefix file (conv1_1-conv3_4)
//   --iterations K            evaluations timed per run, after the history fills (default 20)
//   --lbfgs-history N         L-BFGS correction pairs (default 100, the engine's)
//   --tf32                    allow TF32 (CUDA); default off (float32)
//   --channels-last           channels-last convolutions
//   --peak-tflops X           the device's peak for the floor (H100 SXM: 67 FP32, 495 TF32 dense)
#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "engine/backbone.h"
#include "engine/flop_count.h"
#include "engine/host_allocator.h"
#include "engine/image_io.h"
#include "engine/losses.h"
#include "engine/style_transfer.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

struct BenchFlags {
  std::string device;
  std::vector<int> sizes;
  std::string vgg19_weights;
  int iterations = 20;
  int lbfgs_history = 100;
  bool tf32 = false;
  bool channels_last = false;
  double peak_tflops = 0;
};

BenchFlags& Flags() {
  static BenchFlags flags;
  return flags;
}

// A backbone with the layers a default run resolves against its weights file.
struct Network {
  std::string backbone;
  std::string weights;  // empty: the shared default
  BackboneSpec spec;
  std::vector<std::string> content_layers, style_layers;
};

Result<Network> ResolveNetwork(const std::string& backbone, const std::string& weights) {
  Network network;
  network.backbone = backbone;
  network.weights = weights;
  SS_ASSIGN_OR_RETURN(network.spec, GetBackboneSpec(backbone));
  SS_ASSIGN_OR_RETURN(WeightsInfo info, InspectWeights(network.spec, weights, SharedModelsDir()));
  SS_ASSIGN_OR_RETURN(ResolvedLayers layers, ResolveLayers(network.spec, info.available_layers, {}, {}));
  network.content_layers = layers.content_layers;
  network.style_layers = layers.style_layers;
  return network;
}

// The content image resized to side x side, written once per size.
Result<std::string> SquareContent(int side) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("stylesweep_gpu_bench_" + std::to_string(side) + ".png")).string();
  if (std::filesystem::exists(path)) return path;
  SS_ASSIGN_OR_RETURN(Image content, LoadImage(SharedImagesDir() + "/content/tubingen.jpg"));
  SS_ASSIGN_OR_RETURN(Image square, ResizeImage(content, side, side, "triangle"));
  SS_RETURN_IF_ERROR(SavePng(square, path));
  return path;
}

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

void SetWorkCounters(benchmark::State& state, const IterationWork& work, double seconds_per_iteration) {
  state.counters["GFLOP"] = work.TotalFlops() / 1e9;
  state.counters["MB"] = work.TotalBytes() / 1e6;
  state.counters["TFLOP/s"] = work.TotalFlops() / seconds_per_iteration / 1e12;
  if (Flags().peak_tflops > 0) {
    const double floor_seconds = work.TotalFlops() / (Flags().peak_tflops * 1e12);
    state.counters["floor_ms"] = floor_seconds * 1e3;
    state.counters["of_peak"] = floor_seconds / seconds_per_iteration;
  }
}

void BM_Iteration(benchmark::State& state, const Network& network, int side) {
  auto work = CountIterationWork(network.spec, network.content_layers, network.style_layers, side, side,
                                 Flags().lbfgs_history);
  auto content = SquareContent(side);
  if (!work.ok() || !content.ok()) {
    state.SkipWithError((work.ok() ? content.status() : work.status()).ToString().c_str());
    return;
  }
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  StyleTransfer engine(config);
  StyleJob job;
  job.content_path = *content;
  job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
  job.options.backbone = network.backbone;
  job.options.weights = network.weights;
  job.options.size = side;
  job.options.device = Flags().device;
  job.options.tf32 = Flags().tf32;
  job.options.channels_last = Flags().channels_last;
  job.options.lbfgs_history = Flags().lbfgs_history;
  job.options.num_iterations = 3;
  auto warm_up = engine.Run(job);
  if (!warm_up.ok()) {
    state.SkipWithError(warm_up.status().ToString().c_str());
    return;
  }
  const int timed = std::max(3, Flags().iterations);
  job.options.num_iterations = Flags().lbfgs_history + 1 + timed;
  double last_median = 0;
  for (auto _ : state) {
    auto result = engine.Run(job);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      return;
    }
    std::vector<double> deltas;
    const size_t first = result->history.size() > static_cast<size_t>(timed) ? result->history.size() - timed : 1;
    for (size_t i = first; i < result->history.size(); ++i) {
      deltas.push_back(result->history[i].wall_seconds - result->history[i - 1].wall_seconds);
    }
    std::nth_element(deltas.begin(), deltas.begin() + deltas.size() / 2, deltas.end());
    last_median = deltas[deltas.size() / 2];
    state.SetIterationTime(last_median);
  }
  SetWorkCounters(state, *work, last_median);
}

void BM_Objective(benchmark::State& state, const Network& network, int side) {
  auto work = CountIterationWork(network.spec, network.content_layers, network.style_layers, side, side, 0);
  if (!work.ok()) {
    state.SkipWithError(work.status().ToString().c_str());
    return;
  }
  const torch::Device device(Flags().device);
  if (device.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(Flags().tf32);
    at::globalContext().setAllowTF32CuDNN(Flags().tf32);
    at::globalContext().setBenchmarkCuDNN(true);
  }
  BackboneLoadOptions load;
  load.weights_path = network.weights;
  load.models_dir = SharedModelsDir();
  load.device = device;
  load.channels_last = Flags().channels_last;
  auto backbone = Backbone::Load(network.spec, load);
  if (!backbone.ok()) {
    state.SkipWithError(backbone.status().ToString().c_str());
    return;
  }
  const auto format = Flags().channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  std::vector<std::string> layers = network.content_layers;
  layers.insert(layers.end(), network.style_layers.begin(), network.style_layers.end());
  torch::manual_seed(0);
  auto pixels = (torch::rand({1, 3, side, side}) * 255).to(device);
  std::vector<torch::Tensor> targets;
  {
    torch::NoGradGuard no_grad;
    targets = backbone->Forward(PixelsToNetworkInput(pixels, backbone->input_convention()).contiguous(format), layers);
    for (size_t i = network.content_layers.size(); i < targets.size(); ++i) targets[i] = NormalizedGram(targets[i]);
  }
  auto x = (pixels + torch::randn_like(pixels)).detach();
  auto evaluate = [&] {
    auto leaf = x.detach().requires_grad_(true);
    auto features = backbone->Forward(PixelsToNetworkInput(leaf, backbone->input_convention()).contiguous(format),
                                      layers);
    auto loss = torch::zeros({}, leaf.options());
    for (size_t i = 0; i < features.size(); ++i) {
      loss = loss + (i < network.content_layers.size() ? ContentLoss(features[i], targets[i])
                                                       : StyleLayerLoss(features[i], targets[i]) * 1e3);
    }
    loss.backward();
    return leaf.grad();
  };
  for (int i = 0; i < 3; ++i) evaluate();  // warm-up: cuDNN algorithm search, allocator pools
  Synchronize(device);
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(evaluate());
    Synchronize(device);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
  }
  SetWorkCounters(state, *work, seconds);
}

std::vector<int> ParseSizes(const std::string& text) {
  std::vector<int> sizes;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) sizes.push_back(std::atoi(item.c_str()));
  }
  return sizes;
}

// Takes this program's flags out of argv; leaves Google Benchmark's.
bool ParseFlags(int* argc, char** argv) {
  BenchFlags& flags = Flags();
  std::string sizes;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= *argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string text;
    if (arg == "--device") {
      if (!value(&flags.device)) return false;
    } else if (arg == "--sizes") {
      if (!value(&sizes)) return false;
    } else if (arg == "--vgg19-weights") {
      if (!value(&flags.vgg19_weights)) return false;
    } else if (arg == "--iterations") {
      if (!value(&text)) return false;
      flags.iterations = std::atoi(text.c_str());
    } else if (arg == "--lbfgs-history") {
      if (!value(&text)) return false;
      flags.lbfgs_history = std::atoi(text.c_str());
    } else if (arg == "--peak-tflops") {
      if (!value(&text)) return false;
      flags.peak_tflops = std::atof(text.c_str());
    } else if (arg == "--tf32") {
      flags.tf32 = true;
    } else if (arg == "--channels-last") {
      flags.channels_last = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  if (flags.device.empty()) flags.device = CudaAvailable() ? "cuda" : "cpu";
  flags.sizes = ParseSizes(sizes.empty() ? (flags.device == "cpu" ? "256" : "256,512,1024") : sizes);
  return !flags.sizes.empty();
}

}  // namespace
}  // namespace stylesweep

int main(int argc, char** argv) {
  using namespace stylesweep;
  // As the stylesweep binary does: large tensors reused, not mapped per allocation.
  benchmark::AddCustomContext("host_allocator", ConfigureHostAllocator().description);
  if (!ParseFlags(&argc, argv)) {
    std::fprintf(stderr,
                 "usage: engine_gpu_bench [--device cpu|cuda[:N]] [--sizes 256,512,1024] [--vgg19-weights PATH]\n"
                 "                        [--iterations K] [--lbfgs-history N] [--tf32] [--channels-last]\n"
                 "                        [--peak-tflops X]\n"
                 "                        [Google Benchmark flags]\n");
    return 2;
  }
  std::string reason;
  if (Flags().device != "cpu" && !CudaAvailable(&reason)) {
    std::fprintf(stderr, "engine_gpu_bench: --device %s asked for, but %s\n", Flags().device.c_str(), reason.c_str());
    return 1;
  }
  static std::vector<Network> networks;
  for (const auto& [backbone, weights] : std::vector<std::pair<std::string, std::string>>{
           {"squeezenet1_0", ""}, {"vgg19", Flags().vgg19_weights}}) {
    auto network = ResolveNetwork(backbone, weights);
    if (!network.ok()) {
      std::fprintf(stderr, "engine_gpu_bench: %s: %s\n", backbone.c_str(), network.status().ToString().c_str());
      return 1;
    }
    networks.push_back(std::move(network).value());
  }
  benchmark::AddCustomContext("device", Flags().device);
  benchmark::AddCustomContext("libtorch", EngineBuildInfo());
  benchmark::AddCustomContext("tf32", Flags().tf32 ? "on" : "off");
  for (const Network& network : networks) {
    std::string layers;
    for (const auto& name : network.style_layers) layers += (layers.empty() ? "" : ",") + name;
    benchmark::AddCustomContext(network.backbone + " style layers", layers + "; content " + network.content_layers[0]);
    for (int side : Flags().sizes) {
      benchmark::RegisterBenchmark(("BM_Iteration/" + network.backbone + "/" + std::to_string(side)).c_str(),
                                   BM_Iteration, network, side)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(1)
          ->Repetitions(3)
          ->ReportAggregatesOnly(true);
      benchmark::RegisterBenchmark(("BM_Objective/" + network.backbone + "/" + std::to_string(side)).c_str(),
                                   BM_Objective, network, side)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
