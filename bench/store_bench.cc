// Experiment store throughput: metric points written per second (batched, as
// the coordinator writes a finished run), and `runs --where` over a store of
// 100,000 runs with 8 metrics each.
//
// The 100,000-run fixture is built once and cached under the build folder
// (STORE_BENCH_FIXTURE_DIR). Every run has params and the latest value of 8
// metrics (what --where reads); the first 1,000 runs also carry the full
// 300-step history of all 8 metrics (2.4M history rows). Generating the full
// history for all runs (240M rows, about 10 GB) would not change the filter:
// it reads the latest-value table only.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "store/run_store.h"

namespace stylesweep {
namespace {

constexpr int kSteps = 300;
constexpr int kMetrics = 8;
constexpr int kFixtureRuns = 100000;
constexpr int kRunsWithHistory = 1000;

std::vector<MetricPoint> History(int seed) {
  std::vector<MetricPoint> points;
  points.reserve(kSteps * kMetrics);
  for (int m = 0; m < kMetrics; ++m) {
    for (int step = 0; step < kSteps; ++step) {
      points.push_back({"loss/m" + std::to_string(m), step, 1.0 / (1 + step + seed % 97), 1.7e9 + step});
    }
  }
  return points;
}

void BM_RecordRunResult(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "stylesweep_bench_write";
  std::filesystem::remove_all(dir);
  auto store = RunStore::Open(dir);
  if (!store.ok()) return state.SkipWithError(store.status().ToString().c_str());
  const int64_t experiment = *(*store)->CreateOrGetExperiment("bench", "", "", "");
  RunResult result;
  result.metrics = History(1);
  result.timings = {{"optimize", 1.0}};
  int64_t i = 0;
  int64_t points = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const int64_t id = *(*store)->EnsureRun(experiment, "h" + std::to_string(i++), {{"i", ParamValue::Number(1)}});
    (void)(*store)->StartRun(id, "h", 0, "cpu");
    state.ResumeTiming();
    Status status = (*store)->RecordRunResult(id, result);
    if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
    points += static_cast<int64_t>(result.metrics.size());
  }
  state.counters["points/s"] = benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RecordRunResult)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LogMetricsBatch(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "stylesweep_bench_log";
  std::filesystem::remove_all(dir);
  auto store = RunStore::Open(dir);
  if (!store.ok()) return state.SkipWithError(store.status().ToString().c_str());
  const int64_t experiment = *(*store)->CreateOrGetExperiment("bench", "", "", "");
  const int64_t run = *(*store)->EnsureRun(experiment, "h", {});
  std::vector<MetricPoint> batch(static_cast<size_t>(state.range(0)));
  int64_t step = 0;
  for (auto _ : state) {
    for (auto& point : batch) point = {"loss", step++, 0.5, 1.7e9};
    Status status = (*store)->LogMetrics(run, batch);
    if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
  }
  state.counters["points/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)), benchmark::Counter::kIsRate);
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LogMetricsBatch)->Arg(1)->Arg(100)->Arg(10000)->UseRealTime();

// Builds (once) the 100,000-run fixture described at the top of the file.
Result<std::unique_ptr<RunStore>> Fixture() {
  const std::string dir = STORE_BENCH_FIXTURE_DIR;
  const std::string done = dir + "/.complete";
  if (!std::filesystem::exists(done)) {
    std::filesystem::remove_all(dir);
    std::fprintf(stderr, "building the 100,000-run fixture in %s (once)...\n", dir.c_str());
    SS_ASSIGN_OR_RETURN(auto store, RunStore::Open(dir));
    SS_ASSIGN_OR_RETURN(int64_t experiment, store->CreateOrGetExperiment("fixture", "", "", ""));
    std::mt19937_64 random(42);
    std::uniform_real_distribution<double> unit(0, 1);
    const char* inits[] = {"noise", "content", "style"};
    for (int i = 0; i < kFixtureRuns; ++i) {
      Params params = {{"style_weight", ParamValue::Number(std::pow(10, 1 + 4 * unit(random)))},
                       {"content_weight", ParamValue::Number(1)},
                       {"init", ParamValue::String(inits[i % 3])},
                       {"size", ParamValue::Number(256 + 128 * (i % 4))},
                       {"style_layers", ParamValue::List({ParamValue::String("relu1_1"), ParamValue::String("relu5_1")})}};
      SS_ASSIGN_OR_RETURN(int64_t id, store->EnsureRun(experiment, "cfg" + std::to_string(i), params));
      SS_RETURN_IF_ERROR(store->StartRun(id, "node" + std::to_string(i % 16), i % 8, "cpu"));
      RunResult result;
      if (i < kRunsWithHistory) {
        result.metrics = History(i);
      } else {
        for (int m = 0; m < kMetrics; ++m) {
          result.metrics.push_back({"loss/m" + std::to_string(m), kSteps - 1, unit(random), 1.7e9});
        }
      }
      result.status = i % 10 == 0 ? RunStatus::kFailed : RunStatus::kFinished;
      SS_RETURN_IF_ERROR(store->RecordRunResult(id, result));
    }
    std::FILE* marker = std::fopen(done.c_str(), "w");
    if (marker != nullptr) std::fclose(marker);
  }
  StoreOptions options;
  options.mode = OpenMode::kReadOnly;
  return RunStore::Open(dir, options);
}

void RunsWhere(benchmark::State& state, const RunQuery& query) {
  auto store = Fixture();
  if (!store.ok()) return state.SkipWithError(store.status().ToString().c_str());
  size_t rows = 0;
  for (auto _ : state) {
    auto runs = (*store)->ListRuns(query);
    if (!runs.ok()) return state.SkipWithError(runs.status().ToString().c_str());
    rows = runs->size();
    benchmark::DoNotOptimize(rows);
  }
  state.counters["rows"] = static_cast<double>(rows);
}

void BM_RunsWhereTop20(benchmark::State& state) {
  RunsWhere(state, RunQuery{"", "params.style_weight > 1000 and status = 'finished' and metrics.loss/m0 < 0.5",
                            {"metrics.loss/m0"}, 20});
}
BENCHMARK(BM_RunsWhereTop20)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RunsWhereAllMatches(benchmark::State& state) {
  RunsWhere(state, RunQuery{"", "params.init in ('noise', 'style') and params.size >= 512 and metrics.loss/m3 < 0.1 "
                                "and not status = 'failed'",
                            {"params.style_weight:desc"}, 0});
}
BENCHMARK(BM_RunsWhereAllMatches)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace stylesweep

BENCHMARK_MAIN();
