// Many small jobs on one device: jobs per hour when K jobs run as one batch
// (StyleTransfer::RunBatch: one forward/backward for all) against the same
// jobs one at a time (Run), and the L-BFGS bookkeeping with a host read
// after every evaluation against one every 20. Results and commands are in
// docs/BENCHMARKS.md ("Batched jobs").
//
// Environment (so the same binary runs unchanged on a GPU machine):
//   STYLESWEEP_BENCH_DEVICE      cpu (default), cuda or cuda:N
//   STYLESWEEP_BENCH_SIZE        longest side in px (default 256)
//   STYLESWEEP_BENCH_ITERATIONS  L-BFGS evaluations per job (default 10)
//   STYLESWEEP_BENCH_THREADS     CPU intra-op threads (default: LibTorch's)
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/engine_bench_main.h"
#include "common/shared_dir.h"
#include "engine/lbfgs_batch.h"
#include "engine/style_transfer.h"

namespace stylesweep {
namespace {

std::string EnvText(const char* name, const char* fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? text : fallback;
}
int EnvInt(const char* name, int fallback) { return std::atoi(EnvText(name, std::to_string(fallback).c_str()).c_str()); }

struct Network {
  std::string backbone;
  std::vector<std::string> content_layers, style_layers;
};
const Network kSqueezeNet{"squeezenet1_0", {"fire5"}, {"relu1", "fire2", "fire3", "fire5", "fire7"}};
const Network kVgg19Prefix{"vgg19", {"relu3_2"}, {"relu1_1", "relu2_1", "relu3_1"}};

// `count` different jobs of a sweep: one content, styles and style weights varying.
std::vector<StyleJob> SweepJobs(const Network& network, int count) {
  static const char* const kStyles[] = {"starry_night.jpg", "the_scream.jpg", "wave.jpg",
                                        "shipwreck.jpg", "composition_vii.jpg", "woman-with-hat-matisse.jpg"};
  std::vector<StyleJob> jobs;
  for (int i = 0; i < count; ++i) {
    StyleJob job;
    job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
    job.style_paths = {SharedImagesDir() + "/style/" + kStyles[i % 6]};
    job.options.backbone = network.backbone;
    job.options.content_layers = network.content_layers;
    job.options.style_layers = network.style_layers;
    job.options.size = EnvInt("STYLESWEEP_BENCH_SIZE", 256);
    job.options.num_iterations = EnvInt("STYLESWEEP_BENCH_ITERATIONS", 10);
    job.options.device = EnvText("STYLESWEEP_BENCH_DEVICE", "cpu");
    job.options.style_weight = 1e3 * (1 + i / 6);
    jobs.push_back(job);
  }
  return jobs;
}

EngineConfig Config() {
  EngineConfig config;
  config.models_dir = SharedModelsDir();
  config.num_threads = EnvInt("STYLESWEEP_BENCH_THREADS", 0);
  return config;
}

// Runs `jobs` one at a time (batched = false) or as one RunBatch call.
// The engine is warmed first (backbone loaded, style targets cached), as a
// worker is after its first job.
void JobsBench(benchmark::State& state, const Network& network, bool batched) {
  const int count = static_cast<int>(state.range(0));
  const std::vector<StyleJob> jobs = SweepJobs(network, count);
  StyleTransfer engine(Config());
  for (const StyleJob& job : jobs) {
    StyleJob warm = job;
    warm.options.num_iterations = 1;
    if (auto result = engine.Run(warm); !result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      return;
    }
  }
  for (auto _ : state) {
    std::vector<Result<TransferResult>> results;
    if (batched) {
      results = engine.RunBatch(jobs);
    } else {
      for (const StyleJob& job : jobs) results.push_back(engine.Run(job));
    }
    for (const auto& result : results) {
      if (!result.ok()) {
        state.SkipWithError(result.status().ToString().c_str());
        return;
      }
    }
  }
  state.counters["jobs/hour"] =
      benchmark::Counter(3600.0 * count * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["ms/iteration/job"] = benchmark::Counter(
      1e-3 * count * jobs.front().options.num_iterations * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_SqueezeNetOneAtATime(benchmark::State& state) { JobsBench(state, kSqueezeNet, false); }
void BM_SqueezeNetBatched(benchmark::State& state) { JobsBench(state, kSqueezeNet, true); }
void BM_Vgg19PrefixOneAtATime(benchmark::State& state) { JobsBench(state, kVgg19Prefix, false); }
void BM_Vgg19PrefixBatched(benchmark::State& state) { JobsBench(state, kVgg19Prefix, true); }
BENCHMARK(BM_SqueezeNetOneAtATime)->Arg(4)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_SqueezeNetBatched)->Arg(2)->Arg(4)->Arg(8)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_Vgg19PrefixOneAtATime)->Arg(4)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_Vgg19PrefixBatched)->Arg(4)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// The L-BFGS bookkeeping alone (two-loop recursion with a history of up to
// 100 pairs, accept/halve decisions, vector updates) per evaluation at
// 3x256x256 pixels, with the host reading the optimiser's state every
// state.range(0) evaluations. The problem is a quadratic whose loss stays on
// the device, with curvatures from 1e-3 to 1 and its minimum away from 0, so
// 120 evaluations do not converge into denormal floats (which made the
// older engine_bench BM_LbfgsRecursion256 vary 10x between runs).
void BM_LbfgsBookkeeping256(benchmark::State& state) {
  const std::string device_text = EnvText("STYLESWEEP_BENCH_DEVICE", "cpu");
  std::string no_cuda;
  if (device_text != "cpu" && !CudaAvailable(&no_cuda)) {
    state.SkipWithError(("STYLESWEEP_BENCH_DEVICE=" + device_text + ": " + no_cuda).c_str());
    return;
  }
  const torch::Device device(device_text);
  torch::manual_seed(0);
  auto diagonal = torch::pow(10.0, -3.0 * torch::rand({1, 3 * 256 * 256})).to(device);
  auto minimum = (1 + torch::rand({1, 3 * 256 * 256})).to(device);
  const int evaluations = 120;
  BatchLbfgsOptions options;
  options.lbfgs.max_evaluations = evaluations;
  options.sync_every = static_cast<int>(state.range(0));
  BatchObjective quadratic = [&](const torch::Tensor& at, torch::Tensor& grad, const torch::Tensor&,
                                 std::vector<Status>&) -> Result<torch::Tensor> {
    auto d = at - minimum;
    grad.copy_(diagonal * d);
    return 0.5 * (diagonal * d * d).sum(1);
  };
  for (auto _ : state) {
    auto x = torch::zeros({1, 3 * 256 * 256}, torch::TensorOptions().device(device));
    benchmark::DoNotOptimize(MinimizeLbfgsBatch(x, quadratic, options).ok());
  }
  state.counters["ms/evaluation"] = benchmark::Counter(
      evaluations * static_cast<double>(state.iterations()) * 1e-3, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_LbfgsBookkeeping256)->Arg(1)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace stylesweep

int main(int argc, char** argv) { return stylesweep::RunEngineBenchmarks(argc, argv); }
