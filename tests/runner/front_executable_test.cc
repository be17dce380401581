// The two executables behind `stylesweep` (runner/engine_routes.h): the
// commands that read files and the store, and a sweep's coordinator rank, run
// in the front and never map LibTorch; the commands that optimise run in
// stylesweep-engine.
// What a process maps is read from the dynamic loader's own trace
// (LD_DEBUG=files prints every shared library it loads, across execv).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "store/run_store.h"
#include "tests/runner/run_stylesweep.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunProgram;

// `stylesweep ARGS` with the loader's trace of every library it maps.
CommandResult RunTraced(const std::vector<std::string>& args) {
  return RunProgram(STYLESWEEP_BIN, args, "LD_DEBUG=files");
}

bool Maps(const CommandResult& result, const std::string& library) {
  return result.output.find("file=" + library) != std::string::npos;
}

// A store with two finished runs in experiment "fixture" and a one-job sweep
// on the shared images.
class FrontExecutableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.path() + "/store";
    Result<std::unique_ptr<RunStore>> store = RunStore::Open(store_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Result<int64_t> experiment = (*store)->CreateOrGetExperiment("fixture", "", "", "");
    ASSERT_TRUE(experiment.ok()) << experiment.status().ToString();
    for (int i = 0; i < 2; ++i) {
      Result<int64_t> id = (*store)->EnsureRun(*experiment, "cfg" + std::to_string(i),
                                               {{"size", ParamValue::Number(64 + 32 * i)}});
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      ASSERT_TRUE((*store)->StartRun(*id, "node", 0, "cpu").ok());
      RunResult result;
      result.metrics.push_back({"total_loss", 0, 10.0 - i, 1.7e9});
      ASSERT_TRUE((*store)->RecordRunResult(*id, result).ok());
    }
    sweep_ = dir_.path() + "/sweep.yaml";
    const std::string images = SharedImagesDir();
    std::ofstream(sweep_) << "name: tiny\ncontent: " << images << "/content/tubingen.jpg\nstyle: " << images
                          << "/style/starry_night.jpg\nbase: {backbone: squeezenet1_0, size: 64, num_iterations: 2}\n";
  }

  testing::TempDir dir_{"front_executable_test"};
  std::string store_;
  std::string sweep_;
};

// Every flag that takes a value names it (DIR, N, FILE, table|csv|json),
// never Boost's placeholder "arg".
TEST(CommandHelp, EveryValueIsNamed) {
  for (const char* command : {"experiments", "runs", "show", "compare", "export", "report", "merge", "plan", "slurm",
                              "sweep", "stylize", "evaluate"}) {
    const CommandResult help = testing::RunStylesweep({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command << "\n" << help.output;
    EXPECT_EQ(help.output.find(" arg "), std::string::npos) << command << "\n" << help.output;
    EXPECT_EQ(help.output.find(" arg\n"), std::string::npos) << command << "\n" << help.output;
  }
}

TEST_F(FrontExecutableTest, ExportNamesItsOwnFormatsWhenRefusingOne) {
  const CommandResult xml = testing::RunStylesweep({"export", "-e", "fixture", "--format", "xml", "--store", store_});
  EXPECT_EQ(xml.exit_code, 2) << xml.output;
  EXPECT_NE(xml.output.find("--format must be csv, json, folder or webdataset, not 'xml'"), std::string::npos)
      << xml.output;
  const CommandResult table = testing::RunStylesweep({"export", "-e", "fixture", "--format", "table", "--store", store_});
  EXPECT_EQ(table.exit_code, 2) << table.output;
  EXPECT_NE(table.output.find("not 'table' (use `runs` for a table)"), std::string::npos) << table.output;
}

TEST_F(FrontExecutableTest, StoreAndPlanningCommandsDoNotMapLibTorch) {
  const std::vector<std::vector<std::string>> command_lines = {
      {"--help"},
      {"experiments", "--store", store_},
      {"runs", "--store", store_},
      {"runs", "--store", store_, "--where", "params.size > 64", "--limit", "5"},
      {"show", "1", "--store", store_},
      {"compare", "1", "2", "--store", store_},
      {"export", "-e", "fixture", "--format", "csv", "--store", store_},
      {"report", "-e", "fixture", "-o", dir_.path() + "/report.html", "--store", store_},
      {"merge", store_, "-o", dir_.path() + "/merged"},
      {"plan", sweep_},
      {"plan", sweep_, "--device-memory", "8GiB", "--batch-jobs", "auto"},
      {"slurm", sweep_, "--gpus-per-node", "0", "--time", "00:30:00", "--dry-run"},
  };
  for (const auto& args : command_lines) {
    const std::string what = "stylesweep " + args.front() + (args.size() > 1 ? " " + args[1] : "");
    CommandResult result = RunTraced(args);
    EXPECT_EQ(result.exit_code, 0) << what << "\n" << result.output;
    // The trace is there (every process maps the C++ runtime) ...
    EXPECT_TRUE(Maps(result, "libstdc++")) << what << ": no loader trace\n" << result.output;
    // ... and names no LibTorch (libtorch*, libc10). The front links Open MPI
    // for a sweep's coordinator rank (1-3 ms and about 1.5 MiB more; never
    // initialised here).
    for (const char* library : {"libtorch", "libc10"}) {
      EXPECT_FALSE(Maps(result, library)) << what << " maps " << library;
    }
  }
}

TEST_F(FrontExecutableTest, OptimisingCommandLinesRunInTheEngine) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> command_lines = {
      {{"stylize", "--help"}, "usage: stylesweep stylize"},
      {{"sweep", "--help"}, "usage: stylesweep sweep"},
      {{"evaluate", "--help"}, "usage: stylesweep evaluate"},
      // The smallest GPU's memory is a question for LibTorch, however the option is spelled.
      {{"plan", sweep_, "--device-memory", "auto"}, "sweep tiny"},
      {{"plan", sweep_, "--device-mem=auto"}, "sweep tiny"},
  };
  for (const auto& [args, expected] : command_lines) {
    const std::string what = "stylesweep " + args.front() + " " + args.back();
    CommandResult result = RunTraced(args);
    EXPECT_EQ(result.exit_code, 0) << what << "\n" << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos) << what << "\n" << result.output;
    EXPECT_TRUE(Maps(result, "libtorch")) << what << " did not reach the engine";
  }
}

// `sweep` stays in the front only as rank 0 of several ranks, as the
// launcher's environment says before MPI_Init (`--help` answers without
// MPI, so no launcher is needed to see where it ran).
TEST_F(FrontExecutableTest, SweepStaysInTheFrontOnlyAsRankZeroOfSeveralRanks) {
  const std::vector<std::pair<std::string, bool>> environments = {
      {"OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=3 PMIX_RANK=0", false},           // mpiexec -n 3, rank 0
      {"PMIX_RANK=0 SLURM_PROCID=0 SLURM_STEP_NUM_TASKS=5 SLURM_NTASKS=5", false},    // srun --mpi=pmix, rank 0
      {"OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_SIZE=3 PMIX_RANK=1", true},            // a worker rank
      {"PMIX_RANK=3 SLURM_PROCID=3 SLURM_STEP_NUM_TASKS=5", true},                    // a worker under srun
      {"OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=1 PMIX_RANK=0", true},            // mpiexec -n 1
      {"SLURM_PROCID=0 SLURM_NTASKS=4", true},                                        // a batch script, no srun
      {"", true},                                                                     // no launcher
  };
  for (const auto& [environment, in_engine] : environments) {
    CommandResult result = RunProgram(STYLESWEEP_BIN, {"sweep", "--help"}, "LD_DEBUG=files " + environment);
    EXPECT_EQ(result.exit_code, 0) << environment << "\n" << result.output;
    EXPECT_NE(result.output.find("usage: stylesweep sweep"), std::string::npos) << environment << "\n" << result.output;
    EXPECT_TRUE(Maps(result, "libstdc++")) << environment << ": no loader trace";
    EXPECT_EQ(Maps(result, "libtorch"), in_engine) << environment << (in_engine ? ": stayed in the front" : ": maps LibTorch");
  }
}

// The command names and summaries of a listing ("  name   summary" lines).
std::set<std::string> ListingLines(const std::string& help) {
  std::set<std::string> lines;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  ", 0) == 0) lines.insert(line);
  }
  return lines;
}

TEST(FrontExecutable, HelpListsEveryCommandOfBothExecutables) {
  CommandResult front = testing::RunStylesweep({"--help"});
  ASSERT_EQ(front.exit_code, 0) << front.output;
  std::set<std::string> names;
  for (const std::string& line : ListingLines(front.output)) {
    names.insert(line.substr(2, line.find(' ', 2) - 2));
  }
  EXPECT_EQ(names, (std::set<std::string>{"compare", "evaluate", "experiments", "export", "merge", "plan", "report",
                                          "runs", "show", "slurm", "stylize", "sweep"}));
  // The engine's own commands, with the summaries they register, are listed
  // word for word by the front.
  CommandResult engine = RunProgram(STYLESWEEP_ENGINE_BIN, {"--help"});
  ASSERT_EQ(engine.exit_code, 0) << engine.output;
  const std::set<std::string> engine_lines = ListingLines(engine.output);
  EXPECT_FALSE(engine_lines.empty()) << engine.output;
  const std::set<std::string> front_lines = ListingLines(front.output);
  for (const std::string& line : engine_lines) {
    EXPECT_EQ(front_lines.count(line), 1u) << "stylesweep --help lacks the engine's line\n" << line;
  }
}

TEST(FrontExecutable, MissingEngineIsAnErrorNamingWhereItWasLookedFor) {
  testing::TempDir dir("front_executable_alone");
  const std::string front = dir.path() + "/stylesweep";
  fs::copy_file(STYLESWEEP_BIN, front);
  CommandResult stylize = RunProgram(front, {"stylize", "--help"});
  EXPECT_EQ(stylize.exit_code, 1) << stylize.output;
  EXPECT_NE(stylize.output.find("stylesweep stylize: error: cannot start the engine executable " + dir.path() +
                                "/stylesweep-engine: No such file or directory"),
            std::string::npos)
      << stylize.output;
  // What does not optimise still answers without it.
  CommandResult help = RunProgram(front, {"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.output;
  // A batch script whose sweep could not start is refused before it waits in the queue.
  const std::string sweep = dir.path() + "/sweep.yaml";
  const std::string images = SharedImagesDir();
  std::ofstream(sweep) << "name: tiny\ncontent: " << images << "/content/tubingen.jpg\nstyle: " << images
                       << "/style/starry_night.jpg\nbase: {backbone: squeezenet1_0, size: 64}\n";
  CommandResult slurm = RunProgram(front, {"slurm", sweep, "--gpus-per-node", "0", "--time", "00:30:00", "--dry-run"});
  EXPECT_EQ(slurm.exit_code, 1) << slurm.output;
  EXPECT_NE(slurm.output.find("stylesweep slurm: error: the engine executable " + dir.path() +
                              "/stylesweep-engine is missing"),
            std::string::npos)
      << slurm.output;
}

}  // namespace
}  // namespace stylesweep
