// Whole `stylesweep` processes, as a user at a shell runs them: wall time
// from spawn to exit and the process's peak resident memory (ru_maxrss, which
// covers the engine executable the front may replace itself with). Each
// command runs kRepetitions times; Google Benchmark reports the median.
//
// The same command lines through `stylesweep-engine`, which links LibTorch
// and MPI, show what every command cost when one binary held them all. Two
// probes that print one line and exit, one linked with Open MPI (never
// initialised) and one not, show what linking libmpi alone costs.
//
// Peak RSS has a floor: posix_spawn's child shares this program's memory
// until it execs, and Linux carries that high-water mark (about 7 MiB here)
// into the child's ru_maxrss. Values at the floor mean "at most that".
//
// With CLI_STARTUP_BENCH_BASELINE=PATH (another build's `stylesweep`, e.g.
// one of an earlier commit) each front command also runs through PATH,
// registered right after the same command of this build ("baseline/..."), so
// that the two are measured minutes apart at most on a loaded machine.
//
// Fixtures: an 8-run store built in a temporary folder, and store_bench's
// 100,000-run store (STORE_BENCH_FIXTURE_DIR; `build/bin/store_bench
// --benchmark_filter=RunsWhereTop20` builds it once). Output of the commands
// goes to /dev/null.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/run_store.h"

extern char** environ;

namespace stylesweep {
namespace {

constexpr int kRepetitions = 11;
const char* const kWhere = "params.style_weight > 1000 and status = 'finished' and metrics.loss/m0 < 0.5";

struct ProcessRun {
  double seconds = 0;
  long peak_rss_kib = 0;
  int exit_code = -1;
};

ProcessRun RunProcess(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  ProcessRun run;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0) {
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) == pid) {
      run.peak_rss_kib = usage.ru_maxrss;
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  posix_spawn_file_actions_destroy(&actions);
  return run;
}

// One iteration: one whole process. Wall time is the manual time; peak RSS
// in MiB is a counter.
void BM_Process(benchmark::State& state, std::vector<std::string> argv, std::string needs) {
  if (!needs.empty() && !std::filesystem::exists(needs)) {
    state.SkipWithError((needs + " is missing; build/bin/store_bench --benchmark_filter=RunsWhereTop20 builds it").c_str());
    return;
  }
  long peak = 0;
  for (auto _ : state) {
    const ProcessRun run = RunProcess(argv);
    if (run.exit_code != 0) {
      state.SkipWithError(("exit code " + std::to_string(run.exit_code)).c_str());
      return;
    }
    state.SetIterationTime(run.seconds);
    peak = std::max(peak, run.peak_rss_kib);
  }
  state.counters["peak_rss_MiB"] = static_cast<double>(peak) / 1024.0;
}

// The small store: 8 finished runs in experiment "quickstart".
std::string SmallStore() {
  const std::string dir = (std::filesystem::temp_directory_path() / ("cli_startup_bench_" + std::to_string(getpid()))).string();
  auto store = RunStore::Open(dir);
  if (!store.ok()) return dir;
  auto experiment = (*store)->CreateOrGetExperiment("quickstart", "", "", "");
  for (int i = 0; experiment.ok() && i < 8; ++i) {
    auto id = (*store)->EnsureRun(*experiment, "cfg" + std::to_string(i), {{"size", ParamValue::Number(160)}});
    if (!id.ok() || !(*store)->StartRun(*id, "node", 0, "cpu").ok()) break;
    RunResult result;
    for (int step = 0; step < 100; ++step) result.metrics.push_back({"total_loss", step, 1e5 / (step + 1), 1.7e9});
    (void)(*store)->RecordRunResult(*id, result);
  }
  return dir;
}

void Register(const std::string& name, const std::vector<std::string>& argv, const std::string& needs = "") {
  benchmark::RegisterBenchmark(name.c_str(), BM_Process, argv, needs)
      ->UseManualTime()
      ->Iterations(1)
      ->Repetitions(kRepetitions)
      ->ReportAggregatesOnly(true)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace stylesweep

int main(int argc, char** argv) {
  using stylesweep::Register;
  const std::string small = stylesweep::SmallStore();
  const std::string large = STORE_BENCH_FIXTURE_DIR;
  const std::string quickstart = std::string(STYLESWEEP_SOURCE_DIR) + "/experiments/sweeps/quickstart.yaml";
  // The front's commands: name, arguments, the fixture a command needs.
  struct FrontCommand {
    std::string name;
    std::vector<std::string> args;
    std::string needs;
  };
  const std::vector<FrontCommand> commands = {
      {"--help", {"--help"}, ""},
      {"plan_quickstart", {"plan", quickstart}, ""},
      {"experiments", {"experiments", "--store", small}, ""},
      {"show_1", {"show", "1", "--store", small}, ""},
      {"runs", {"runs", "--store", small}, ""},
      {"runs_where_100k_limit_5", {"runs", "--store", large, "--where", stylesweep::kWhere, "--limit", "5"},
       large + "/.complete"},
      {"runs_where_sorted_100k_limit_5",
       {"runs", "--store", large, "--where", stylesweep::kWhere, "--sort", "metrics.loss/m0", "--limit", "5"},
       large + "/.complete"},
  };
  const char* baseline = std::getenv("CLI_STARTUP_BENCH_BASELINE");
  if (baseline != nullptr && *baseline != '\0') benchmark::AddCustomContext("baseline", baseline);
  for (const FrontCommand& command : commands) {
    std::vector<std::string> command_line = {STYLESWEEP_BIN};
    command_line.insert(command_line.end(), command.args.begin(), command.args.end());
    Register("front/" + command.name, command_line, command.needs);
    if (baseline == nullptr || *baseline == '\0') continue;
    command_line.front() = baseline;
    Register("baseline/" + command.name, command_line, command.needs);
  }
  Register("engine/--help", {STYLESWEEP_ENGINE_BIN, "--help"});
  Register("engine/plan_quickstart", {STYLESWEEP_ENGINE_BIN, "plan", quickstart});
  Register("probe/plain", {STARTUP_PROBE_PLAIN});
  Register("probe/linked_with_libmpi", {STARTUP_PROBE_MPI});
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(small);
  return 0;
}
