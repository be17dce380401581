// Store snapshots (store/snapshot.h): time and bytes of the first, full
// snapshot of a store of 1,000 or 10,000 finished runs, and of the next one
// after 10 more runs finished (the steady state of a sweep). Each run holds
// 500 iterations of four losses (2,000 history rows), four timings and one
// 64 KiB artifact of random bytes (incompressible, like a PNG). Fixtures are
// built once and cached under the build folder. docs/BENCHMARKS.md.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>

#include "store/run_store.h"
#include "store/snapshot.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

constexpr int kIterations = 500;
constexpr int kArtifactBytes = 64 * 1024;

Status AddRuns(RunStore& store, int64_t experiment, int first, int count) {
  std::mt19937 random(first);
  for (int index = first; index < first + count; ++index) {
    Params params = {{"alpha_beta", ParamValue::Number(1e-5 * (1 + index % 4))},
                     {"style_weight", ParamValue::Number(1e3)},
                     {"content", ParamValue::String("content" + std::to_string(index % 50) + ".png")},
                     {"style", ParamValue::String("style" + std::to_string(index % 20) + ".png")},
                     {"seed", ParamValue::Number(index)}};
    SS_ASSIGN_OR_RETURN(int64_t id, store.EnsureRun(experiment, "run" + std::to_string(index), params));
    SS_RETURN_IF_ERROR(store.StartRun(id, "node", 1, "cpu"));
    RunResult result;
    result.status = RunStatus::kFinished;
    for (int step = 0; step < kIterations; ++step) {
      for (const char* key : {"total_loss", "content_loss", "style_loss", "tv_loss"}) {
        result.metrics.push_back({key, step, 1e6 * (1.0 + index % 11) / (1 + step), 1.7e9 + step});
      }
    }
    result.timings = {{"load", 0.1}, {"targets", 0.4}, {"optimize", 25.0}, {"save", 0.02}};
    ArtifactInput artifact;
    artifact.step = kIterations - 1;
    artifact.bytes.resize(kArtifactBytes);
    for (char& byte : artifact.bytes) byte = static_cast<char>(random());
    artifact.width = 256;
    artifact.height = 192;
    result.artifacts.push_back(std::move(artifact));
    SS_RETURN_IF_ERROR(store.RecordRunResult(id, result));
  }
  return Status::Ok();
}

// The cached store of `runs` finished runs; returns its folder.
Result<std::string> Fixture(int runs) {
  const std::string dir = std::string(SNAPSHOT_BENCH_FIXTURE_DIR) + "/store_" + std::to_string(runs) + "_runs";
  if (fs::exists(dir + "/complete")) return dir;
  fs::remove_all(dir);
  {
    SS_ASSIGN_OR_RETURN(auto store, RunStore::Open(dir));
    SS_ASSIGN_OR_RETURN(int64_t experiment, store->CreateOrGetExperiment("bench", "name: bench", "h", "bench"));
    SS_RETURN_IF_ERROR(AddRuns(*store, experiment, 0, runs));
  }
  fs::create_directories(dir + "/complete");
  return dir;
}

void Report(benchmark::State& state, const SnapshotStats& stats) {
  state.counters["db_MiB"] = static_cast<double>(stats.database_bytes) / (1 << 20);
  state.counters["artifacts_copied"] = static_cast<double>(stats.artifacts_copied);
  state.counters["artifact_MiB"] = static_cast<double>(stats.artifact_bytes_copied) / (1 << 20);
  state.counters["written_MiB"] = static_cast<double>(stats.database_bytes + stats.artifact_bytes_copied) / (1 << 20);
}

// The first snapshot into an empty folder: the whole database and every artifact.
void BM_FirstSnapshot(benchmark::State& state) {
  Result<std::string> dir = Fixture(static_cast<int>(state.range(0)));
  if (!dir.ok()) return state.SkipWithError(dir.status().ToString().c_str());
  const std::string snapshot = *dir + "-snapshot";
  SnapshotStats stats;
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(snapshot);
    SnapshotWriter writer(*dir, snapshot);
    state.ResumeTiming();
    Result<SnapshotStats> written = writer.Write({});
    if (!written.ok()) return state.SkipWithError(written.status().ToString().c_str());
    stats = *written;
  }
  Report(state, stats);
}
BENCHMARK(BM_FirstSnapshot)->Arg(1000)->Arg(10000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// A later snapshot after 10 more runs finished: the database again, and
// only the 10 new artifacts. The fixture is copied first (not timed), so
// the cached one stays as it was.
void BM_NextSnapshot(benchmark::State& state) {
  Result<std::string> fixture = Fixture(static_cast<int>(state.range(0)));
  if (!fixture.ok()) return state.SkipWithError(fixture.status().ToString().c_str());
  const std::string live = *fixture + "-live", snapshot = *fixture + "-snapshot";
  fs::remove_all(live);
  fs::copy(*fixture, live, fs::copy_options::recursive);
  auto store = RunStore::Open(live);
  if (!store.ok()) return state.SkipWithError(store.status().ToString().c_str());
  auto experiment = (*store)->CreateOrGetExperiment("bench", "", "", "");
  SnapshotWriter writer(live, snapshot);
  if (!writer.Write({}).ok()) return state.SkipWithError("first snapshot failed");
  int next = static_cast<int>(state.range(0));
  SnapshotStats stats;
  for (auto _ : state) {
    state.PauseTiming();
    if (Status added = AddRuns(**store, *experiment, next, 10); !added.ok()) {
      return state.SkipWithError(added.ToString().c_str());
    }
    next += 10;
    state.ResumeTiming();
    Result<SnapshotStats> written = writer.Write({});
    if (!written.ok()) return state.SkipWithError(written.status().ToString().c_str());
    stats = *written;
  }
  Report(state, stats);
  store->reset();
  fs::remove_all(live);
  fs::remove_all(snapshot);
}
BENCHMARK(BM_NextSnapshot)->Arg(1000)->Arg(10000)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace stylesweep

BENCHMARK_MAIN();
