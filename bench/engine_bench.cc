// Engine throughput on the CPU: Gram matrices, one objective evaluation
// (backbone forward + losses + backward to the pixels) at several sizes, the
// L-BFGS recursion's own cost, and a whole 100-iteration StyleTransfer run.
// bench/pytorch_baseline.py does the same work in plain PyTorch; results
// and commands are in docs/BENCHMARKS.md ("Engine").
//
// Threads: LibTorch's intra-op pool is set to STYLESWEEP_BENCH_THREADS
// (default 2, the CI machine's cores) before anything runs.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "bench/engine_bench_main.h"
#include "common/shared_dir.h"
#include "engine/backbone.h"
#include "engine/image_io.h"
#include "engine/lbfgs.h"
#include "engine/losses.h"
#include "engine/symmetric_gram.h"
#include "engine/style_transfer.h"
#include "engine/tensor_image.h"

namespace stylesweep {
namespace {

int BenchThreads() {
  const char* text = std::getenv("STYLESWEEP_BENCH_THREADS");
  return text != nullptr ? std::atoi(text) : 2;
}

struct ThreadSetup {
  ThreadSetup() { torch::set_num_threads(BenchThreads()); }
} thread_setup;

// Features [1, C, S, S] channels-last (what the backbone produces), forward only.
void BM_GramMatrix(benchmark::State& state) {
  const int64_t channels = state.range(0), side = state.range(1);
  torch::NoGradGuard no_grad;
  auto features = torch::randn({1, channels, side, side}).contiguous(torch::MemoryFormat::ChannelsLast);
  for (auto _ : state) benchmark::DoNotOptimize(GramMatrix(features).data_ptr<float>());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * channels * channels * side * side * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GramMatrix)->Args({64, 256})->Args({256, 64})->Args({512, 32})->Unit(benchmark::kMillisecond)->UseRealTime();

// The forward Gram product alone, [1, C, 1, M] contiguous features: the
// rank-k update (range 2 = 1) against the general product (range 2 = 0),
// side by side in one run, over the channel counts of SqueezeNet's style
// layers and position counts around where the two cross
// (symmetric_gram.h's kRankKMinPositions was chosen from this).
void BM_GramForward(benchmark::State& state) {
  const int64_t channels = state.range(0), positions = state.range(1);
  const GramProduct product = state.range(2) == 1 ? GramProduct::kRankK : GramProduct::kGeneral;
  torch::NoGradGuard no_grad;
  const auto features = torch::randn({1, channels, 1, positions});
  for (auto _ : state) benchmark::DoNotOptimize(SymmetricGram(features, product).data_ptr<float>());
  state.counters["GFLOP/s general-equivalent"] = benchmark::Counter(
      2.0 * channels * channels * positions * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
// Both products of one shape run one after the other, so load from other
// processes lands on both alike.
void GramForwardShapes(benchmark::internal::Benchmark* bench) {
  for (int64_t channels : {96, 128, 256, 384, 512}) {
    for (int64_t positions : {165, 360, 713, 1426, 2852, 11625}) {
      for (int64_t product : {0, 1}) bench->Args({channels, positions, product});
    }
  }
}
BENCHMARK(BM_GramForward)->Apply(GramForwardShapes)->Unit(benchmark::kMillisecond)->UseRealTime();

// A style layer's Gram matrix forward and backward, [1, C, 1, M] contiguous
// features (the engine's default layout), side by side in one run: autograd
// of the general product bmm(F, F^T) (range 2 = 0), the symmetric product
// with its own backward and the rank-k forward (range 2 = 1), the same with
// the general forward (range 2 = 2). Shapes: SqueezeNet's style layers at
// 256x192 (relu1, fire2, fire5, fire7).
void BM_GramForwardBackward(benchmark::State& state) {
  const int64_t channels = state.range(0), positions = state.range(1);
  const int64_t variant = state.range(2);
  auto features = torch::randn({1, channels, 1, positions}).requires_grad_(true);
  const auto upstream = torch::randn({1, channels, channels});
  for (auto _ : state) {
    torch::Tensor gram;
    if (variant == 0) {
      const auto matrix = features.reshape({1, channels, -1});
      gram = torch::bmm(matrix, matrix.transpose(1, 2));
    } else {
      gram = SymmetricGram(features, variant == 1 ? GramProduct::kRankK : GramProduct::kGeneral);
    }
    (gram * upstream).sum().backward();
    benchmark::DoNotOptimize(features.grad().data_ptr<float>());
    features.mutable_grad().reset();
  }
  state.counters["GFLOP/s general-equivalent"] = benchmark::Counter(
      6.0 * channels * channels * positions * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GramForwardBackward)
    ->ArgsProduct({{96}, {93 * 125}, {0, 1, 2}})
    ->ArgsProduct({{128}, {46 * 62}, {0, 1, 2}})
    ->ArgsProduct({{256}, {23 * 31}, {0, 1, 2}})
    ->ArgsProduct({{384}, {11 * 15}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

struct Network {
  std::string backbone;
  std::vector<std::string> content_layers, style_layers;
};
const Network kSqueezeNet{"squeezenet1_0", {"fire5"}, {"relu1", "fire2", "fire3", "fire5", "fire7"}};
const Network kVgg19Prefix{"vgg19", {"relu3_2"}, {"relu1_1", "relu2_1", "relu3_1"}};

// One Gatys objective evaluation: pixels -> input -> features -> content +
// style losses -> backward to the pixels, as the engine's objective does it.
void ObjectiveBench(benchmark::State& state, const Network& network) {
  const int64_t side = state.range(0);
  auto spec = GetBackboneSpec(network.backbone);
  BackboneLoadOptions options;
  options.models_dir = SharedModelsDir();
  auto backbone = Backbone::Load(*spec, options);
  if (!backbone.ok()) {
    state.SkipWithError(backbone.status().ToString().c_str());
    return;
  }
  std::vector<std::string> layers = network.content_layers;
  layers.insert(layers.end(), network.style_layers.begin(), network.style_layers.end());
  auto to_input = [&](const torch::Tensor& pixels) {
    return PixelsToNetworkInput(pixels, backbone->input_convention()).contiguous(torch::MemoryFormat::ChannelsLast);
  };
  torch::manual_seed(0);
  auto content = torch::rand({1, 3, side, side}) * 255;
  std::vector<torch::Tensor> targets;
  {
    torch::NoGradGuard no_grad;
    targets = backbone->Forward(to_input(content), layers);
    for (size_t i = network.content_layers.size(); i < targets.size(); ++i) targets[i] = NormalizedGram(targets[i]);
  }
  auto x = content.clone();
  for (auto _ : state) {
    auto leaf = x.detach().requires_grad_(true);
    auto features = backbone->Forward(to_input(leaf), layers);
    auto total = ContentLoss(features[0], targets[0]);
    for (size_t i = 1; i < features.size(); ++i) total = total + 1e3 * StyleLayerLoss(features[i], targets[i]);
    total.backward();
    benchmark::DoNotOptimize(total.item<double>());
  }
}
void BM_ObjectiveSqueezeNet(benchmark::State& state) { ObjectiveBench(state, kSqueezeNet); }
void BM_ObjectiveVgg19Prefix(benchmark::State& state) { ObjectiveBench(state, kVgg19Prefix); }
BENCHMARK(BM_ObjectiveSqueezeNet)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime()
    ->MinTime(2.0);
BENCHMARK(BM_ObjectiveVgg19Prefix)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime()
    ->MinTime(2.0);

// The L-BFGS bookkeeping alone (two-loop recursion with a full history of
// 100 pairs, vector updates, read-backs) per evaluation at 256x256 pixels,
// on a quadratic whose own cost is one multiply.
void BM_LbfgsRecursion256(benchmark::State& state) {
  torch::manual_seed(0);
  auto diagonal = torch::rand({1, 3, 256, 256}) + 0.1;
  const int evaluations = 120;
  for (auto _ : state) {
    auto x = torch::ones({1, 3, 256, 256});
    auto quadratic = [&](const torch::Tensor& at, torch::Tensor& grad) -> Result<double> {
      grad.copy_(diagonal * at);
      return 0.5 * (diagonal * at * at).sum().item<double>();
    };
    LbfgsOptions options;
    options.max_evaluations = evaluations;
    benchmark::DoNotOptimize(MinimizeLbfgs(x, quadratic, options).ok());
  }
  state.counters["ms/evaluation"] =
      benchmark::Counter(evaluations * state.iterations() * 1e-3, benchmark::Counter::kIsRate |
                                                                    benchmark::Counter::kInvert);
}
BENCHMARK(BM_LbfgsRecursion256)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// A whole run as a user starts it: Tubingen + Starry Night, 256 px, 100
// L-BFGS iterations; loading and targets included (a few % of the time).
void RunBench(benchmark::State& state, const Network& network) {
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  config.num_threads = BenchThreads();
  StyleTransfer engine(config);
  StyleJob job;
  job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
  job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
  job.options.backbone = network.backbone;
  job.options.content_layers = network.content_layers;
  job.options.style_layers = network.style_layers;
  job.options.size = 256;
  job.options.num_iterations = static_cast<int>(state.range(0));
  double optimize_seconds = 0;
  for (auto _ : state) {
    auto result = engine.Run(job);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      return;
    }
    optimize_seconds += result->phase_seconds["optimize"];
  }
  state.counters["ms/iteration"] = 1e3 * optimize_seconds / (state.iterations() * state.range(0));
}
void BM_RunSqueezeNet256(benchmark::State& state) { RunBench(state, kSqueezeNet); }
void BM_RunVgg19Prefix256(benchmark::State& state) { RunBench(state, kVgg19Prefix); }
BENCHMARK(BM_RunSqueezeNet256)->Arg(100)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_RunVgg19Prefix256)->Arg(100)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace stylesweep

int main(int argc, char** argv) { return stylesweep::RunEngineBenchmarks(argc, argv); }
