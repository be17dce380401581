// Coordinator overhead per job: a sweep of N no-op jobs through the local
// transport into a fresh store, so the time is the scheduler's own work
// (queueing, dispatch, the wire-free local hand-off, recording each result in
// one store transaction). Two variants: artifacts written with the store's
// default atomic writer (fsync per image, as in production) and with an
// in-memory writer (the coordinator and SQLite alone). Wire encode/decode of
// a report with 500 iterations of metrics and a 256 px PNG is measured
// separately (what an MPI hand-off adds besides the transfer itself).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "scheduler/coordinator.h"
#include "scheduler/wire.h"

namespace stylesweep {
namespace {

std::vector<JobSpec> NoopJobs(int count) {
  std::vector<JobSpec> jobs;
  for (int i = 0; i < count; ++i) {
    JobSpec job;
    job.index = i;
    job.job_key = std::to_string(1000000 + i) + std::string(57, 'f');
    job.content_path = "/images/c" + std::to_string(i) + ".png";
    job.style_paths = {"/images/s" + std::to_string(i % 4) + ".png"};
    job.style_key = "style" + std::to_string(i % 4);
    job.cost = 100.0 * (i % 7);
    jobs.push_back(job);
  }
  return jobs;
}

void RunNoopSweep(benchmark::State& state, bool fsync_artifacts) {
  const int count = static_cast<int>(state.range(0));
  const auto jobs = NoopJobs(count);
  SweepSpec spec;
  spec.name = "bench";
  for (auto _ : state) {
    state.PauseTiming();
    std::string pattern = (std::filesystem::temp_directory_path() / "stylesweep_bench_XXXXXX").string();
    const std::string dir = ::mkdtemp(pattern.data());
    StoreOptions store_options;
    if (!fsync_artifacts) store_options.artifact_writer = [](const std::string&, std::string_view) { return Status::Ok(); };
    auto store = RunStore::Open(dir, store_options);
    NoopExecutor executor;
    LocalTransport transport(&executor, nullptr, WorkerHello{"bench", 0, 0, 0, "cpu"});
    state.ResumeTiming();
    auto summary = RunSweep(spec, "bench", "", jobs, **store, transport, CoordinatorOptions{});
    state.PauseTiming();
    if (!summary.ok() || summary->finished != count) state.SkipWithError("sweep failed");
    store->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["time_per_job"] = benchmark::Counter(static_cast<double>(count) * state.iterations(),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_CoordinatorNoopJobs_FsyncArtifacts(benchmark::State& state) { RunNoopSweep(state, true); }
void BM_CoordinatorNoopJobs_MemoryArtifacts(benchmark::State& state) { RunNoopSweep(state, false); }
BENCHMARK(BM_CoordinatorNoopJobs_FsyncArtifacts)->Arg(200)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CoordinatorNoopJobs_MemoryArtifacts)->Arg(200)->Arg(2000)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_WireReportRoundTrip(benchmark::State& state) {
  JobReport report;
  report.run_id = 1;
  for (int step = 1; step <= 500; ++step) {
    for (const char* key : {"total_loss", "content_loss", "style_loss", "tv_loss", "style_loss/relu1_1",
                            "style_loss/relu2_1", "style_loss/relu3_1", "style_loss/relu4_1", "style_loss/relu5_1"}) {
      report.outcome.metrics.push_back({key, step, 1234.5 * step, 1.7e9 + step});
    }
  }
  report.outcome.final_image.png = std::string(150000, 'x');
  for (auto _ : state) {
    auto decoded = DecodeReport(EncodeReport(report));
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_WireReportRoundTrip)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stylesweep

BENCHMARK_MAIN();
