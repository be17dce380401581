#include "runner/slurm_script.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::TempDir;

SlurmJobOptions Options() {
  SlurmJobOptions options;
  options.job_name = "stylesweep-quickstart";
  options.stylesweep_path = "/opt/stylesweep/bin/stylesweep";
  options.sweep_file = "/home/ada/sweeps/quick start.yaml";
  options.overrides = {"alpha_beta=1e-3,1e-2", "content=it's.jpg"};
  options.shared_dir = "/shared";
  options.store_dir = "/home/ada/runs";
  options.work_dir = "/home/ada";
  options.log_dir = "/home/ada/logs";
  options.nodes = 2;
  options.gpus_per_node = 4;
  options.time_limit = "04:00:00";
  options.partition = "gpu";
  options.account = "vision";
  return options;
}

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream lines(text);
  for (std::string current; std::getline(lines, current);) {
    if (current == line) return true;
  }
  return false;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SlurmScript, AsksForOneTaskPerGpuPlusTheCoordinatorAndAPreemptionSignal) {
  const std::string script = SlurmBatchScript(Options());
  EXPECT_EQ(script.rfind("#!/bin/bash\n", 0), 0u);
  for (const char* line : {"#SBATCH --job-name=stylesweep-quickstart", "#SBATCH --nodes=2", "#SBATCH --ntasks=9",
                           "#SBATCH --gpus-per-node=4", "#SBATCH --time=04:00:00", "#SBATCH --partition=gpu",
                           "#SBATCH --account=vision", "#SBATCH --chdir=/home/ada",
                           "#SBATCH --output=/home/ada/logs/%x-%j.out", "#SBATCH --open-mode=append",
                           "#SBATCH --signal=B:USR1@120", "#SBATCH --requeue"}) {
    EXPECT_TRUE(HasLine(script, line)) << "missing: " << line << "\n" << script;
  }
  EXPECT_EQ(script.find("--array"), std::string::npos);
  EXPECT_EQ(script.find("(--share "), std::string::npos);
  EXPECT_NE(script.find("trap 'on_stop USR1' USR1"), std::string::npos);
  EXPECT_NE(script.find("scontrol requeue \"$job_tag\""), std::string::npos);
  // The user's arguments reach the sweep intact, quoted for bash.
  EXPECT_NE(script.find("sweep_args=('/home/ada/sweeps/quick start.yaml' 'alpha_beta=1e-3,1e-2' 'content=it'\\''s.jpg' "
                        "--shared-dir '/shared' --progress plain --snapshot-every '5m')"),
            std::string::npos)
      << script;
}

TEST(SlurmScript, PicksPmixThenPmi2ThenMpiexecUnlessToldWhichLauncher) {
  const std::string automatic = SlurmBatchScript(Options());
  EXPECT_TRUE(HasLine(automatic, "launcher=auto"));
  EXPECT_LT(automatic.find("grep -qw pmix"), automatic.find("grep -qw pmi2"));
  EXPECT_NE(automatic.find("launch=(srun --mpi=pmix"), std::string::npos);
  EXPECT_NE(automatic.find("launch=(srun --mpi=pmi2"), std::string::npos);
  EXPECT_NE(automatic.find("launch=(mpiexec -n \"$SLURM_NTASKS\")"), std::string::npos);
  SlurmJobOptions options = Options();
  options.launcher = "mpiexec";
  EXPECT_TRUE(HasLine(SlurmBatchScript(options), "launcher=mpiexec"));
}

TEST(SlurmScript, AnArrayRunsOneShareIntoItsOwnStore) {
  SlurmJobOptions options = Options();
  options.array_size = 8;
  const std::string script = SlurmBatchScript(options);
  EXPECT_TRUE(HasLine(script, "#SBATCH --array=0-7"));
  EXPECT_TRUE(HasLine(script, "#SBATCH --output=/home/ada/logs/%x-%A_%a.out"));
  EXPECT_TRUE(HasLine(script, "sweep_args+=(--share \"${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT:-8}\")"));
  EXPECT_TRUE(HasLine(script, "submit_store='/home/ada/runs'-share-${SLURM_ARRAY_TASK_ID}"));
  EXPECT_TRUE(HasLine(script, "job_tag=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"));
}

TEST(SlurmScript, CpuOnlyJobsAskForNoGpus) {
  SlurmJobOptions options = Options();
  options.gpus_per_node = 0;
  options.nodes = 1;
  options.tasks_per_node = 3;
  options.extra_sbatch = {"--mem=8G"};
  const std::string script = SlurmBatchScript(options);
  EXPECT_EQ(script.find("--gpus-per-node"), std::string::npos);
  EXPECT_TRUE(HasLine(script, "#SBATCH --ntasks=4"));
  EXPECT_TRUE(HasLine(script, "#SBATCH --mem=8G"));
}

TEST(SlurmScript, SnapshotIntervalMustBeADuration) {
  SlurmJobOptions options = Options();
  options.snapshot_every = "90s";
  EXPECT_TRUE(ValidateSlurmJobOptions(options).ok());
  EXPECT_NE(SlurmBatchScript(options).find("--snapshot-every '90s'"), std::string::npos);
  options.snapshot_every = "5x";
  const Status status = ValidateSlurmJobOptions(options);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--snapshot-every '5x'"), std::string::npos) << status.message();
}

TEST(SlurmScript, PassesTheWorkerTimeoutToTheSweepAndRequeuesAfterLostWorkers) {
  SlurmJobOptions options = Options();
  EXPECT_EQ(SlurmBatchScript(options).find("--worker-timeout"), std::string::npos);
  options.worker_timeout = "90s";
  const std::string script = SlurmBatchScript(options);
  EXPECT_NE(script.find(" --worker-timeout '90s'"), std::string::npos) << script;
  EXPECT_NE(script.find("$status -eq 69"), std::string::npos);
  EXPECT_NE(script.find("--exit-file \"$exit_file\""), std::string::npos);
}

TEST(SlurmScript, ValidationNamesTheBadOption) {
  const std::vector<std::pair<std::function<void(SlurmJobOptions&)>, std::string>> cases = {
      {[](SlurmJobOptions& o) { o.nodes = 0; }, "--nodes"},
      {[](SlurmJobOptions& o) { o.gpus_per_node = -1; }, "--gpus-per-node"},
      {[](SlurmJobOptions& o) { o.array_size = 1; }, "--array"},
      {[](SlurmJobOptions& o) { o.launcher = "ssh"; }, "--launcher"},
      {[](SlurmJobOptions& o) { o.time_limit = "four hours"; }, "--time"},
      {[](SlurmJobOptions& o) { o.time_limit = "00:02:00"; }, "leaves no time"},
      {[](SlurmJobOptions& o) { o.store_dir = "runs"; }, "absolute"},
      {[](SlurmJobOptions& o) { o.job_name = "a b"; }, "--job-name"},
      {[](SlurmJobOptions& o) { o.extra_sbatch = {"mem=8G"}; }, "--sbatch"},
      {[](SlurmJobOptions& o) { o.worker_timeout = "2s"; }, "--worker-timeout 2s is too short"},
      {[](SlurmJobOptions& o) { o.worker_timeout = "5 minutes"; }, "--worker-timeout"},
  };
  ASSERT_TRUE(ValidateSlurmJobOptions(Options()).ok());
  for (const auto& [change, expected] : cases) {
    SlurmJobOptions options = Options();
    change(options);
    Status status = ValidateSlurmJobOptions(options);
    ASSERT_FALSE(status.ok()) << expected;
    EXPECT_NE(status.message().find(expected), std::string::npos) << status.message();
  }
}

// The whole script for two option sets that between them take every branch,
// against the scripts in tests/runner/testdata: a change to the script shows
// as a diff there. On a mismatch the script written is left as NAME.actual
// in the test's working folder (build/tests/runner).
void ExpectScriptAsRecorded(const SlurmJobOptions& options, const std::string& name) {
  const std::string recorded = ReadFile(std::string(STYLESWEEP_TESTDATA_DIR) + "/" + name);
  const std::string written = SlurmBatchScript(options);
  if (written != recorded) {
    std::ofstream(name + ".actual", std::ios::binary) << written;
    ADD_FAILURE() << "the script differs from testdata/" << name << (recorded.empty() ? " (empty or missing)" : "")
                  << "; diff it with " << name << ".actual";
  }
}

TEST(SlurmScript, IsTheRecordedScriptForGpusAndAnAutomaticLauncher) {
  ExpectScriptAsRecorded(Options(), "slurm_script_gpus.sbatch");
}

TEST(SlurmScript, IsTheRecordedScriptForACpuArrayUnderMpiexec) {
  SlurmJobOptions options = Options();
  options.shared_dir.clear();
  options.gpus_per_node = 0;
  options.tasks_per_node = 3;
  options.cpus_per_task = 4;
  options.threads = 2;
  options.worker_timeout = "90s";
  options.array_size = 3;
  options.launcher = "mpiexec";
  options.signal_seconds = 300;
  options.snapshot_every = "90s";
  options.time_limit.clear();
  options.partition.clear();
  options.account.clear();
  options.extra_sbatch = {"--mem=8G", "--overcommit"};
  ExpectScriptAsRecorded(options, "slurm_script_cpu_array.sbatch");
}

TEST(SlurmScript, ParsesSlurmTimes) {
  EXPECT_EQ(*ParseSlurmTime("04:00:00"), 4 * 3600);
  EXPECT_EQ(*ParseSlurmTime("1-02:03:04"), 86400 + 2 * 3600 + 3 * 60 + 4);
  EXPECT_EQ(*ParseSlurmTime("30"), 30 * 60);
  EXPECT_EQ(*ParseSlurmTime("10:30"), 10 * 60 + 30);
  for (const char* bad : {"", "1:61:00", "x", "1-30", "1:2:3:4", "-1:00:00"}) {
    EXPECT_FALSE(ParseSlurmTime(bad).ok()) << bad;
  }
}

// Runs the generated script with bash against fake srun, scontrol and
// stylesweep programs: the script's own logic (local store, copy back,
// stop forwarding, requeue) without a cluster.
class SlurmScriptRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    std::filesystem::create_directories(root_ + "/bin");
    Write("bin/srun",
          "#!/bin/bash\n"
          "if [[ $1 == --mpi=list ]]; then echo 'MPI plugin types are...'; echo '	pmix'; exit 0; fi\n"
          "echo \"$*\" > " + root_ + "/srun-args\n"
          "while [[ $1 == --* ]]; do shift; done\n"
          "exec \"$@\"\n");
    Write("bin/scontrol", "#!/bin/bash\necho \"$*\" >> " + root_ + "/scontrol-calls\n");
    // The fake sweep appends to a file in its store (so resuming is visible),
    // then exits with $FAKE_EXIT, or with 75 on USR1 when FAKE_WAIT is set.
    Write("bin/stylesweep",
          "#!/bin/bash\n"
          "echo \"$*\" > " + root_ + "/sweep-args\n"
          "store=''; exit_file=''\n"
          "while [[ $# -gt 0 ]]; do [[ $1 == --store ]] && store=$2; [[ $1 == --exit-file ]] && exit_file=$2; shift; done\n"
          "echo run >> \"$store/store.db\"\n"
          "if [[ -n ${FAKE_LOST:-} ]]; then\n"  // lost workers: status written, then a launcher that hangs
          "  echo 69 > \"$exit_file\"; trap '' TERM\n"
          "  while :; do sleep 0.05; done\n"
          "fi\n"
          "if [[ -n ${FAKE_WAIT:-} ]]; then\n"
          "  trap 'echo killed >> \"$store/store.db\"; exit 75' USR1\n"
          "  touch " + root_ + "/started\n"
          "  while :; do sleep 0.05; done\n"
          "fi\n"
          "exit ${FAKE_EXIT:-0}\n");
    for (const char* tool : {"srun", "scontrol", "stylesweep"}) {
      std::filesystem::permissions(root_ + "/bin/" + tool, std::filesystem::perms::owner_all);
    }
    SlurmJobOptions options;
    options.job_name = "test";
    options.stylesweep_path = root_ + "/bin/stylesweep";
    options.sweep_file = root_ + "/sweep.yaml";
    options.store_dir = root_ + "/runs";
    options.work_dir = root_;
    options.log_dir = root_;
    options.gpus_per_node = 0;
    Write("job.sbatch", SlurmBatchScript(options));
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream out(root_ + "/" + name);
    out << text;
  }

  // Runs the script as Slurm would (job 42) with `extra` shell before it;
  // returns its exit status.
  int RunScript(const std::string& environment, const std::string& driver = "") {
    const std::string command = "cd " + root_ + " && export PATH=" + root_ + "/bin:$PATH SLURM_JOB_ID=42 SLURM_NTASKS=2 "
                                "SLURM_JOB_NUM_NODES=1 STYLESWEEP_LOCAL_DIR=" + root_ + "/local " + environment + "; " +
                                (driver.empty() ? "bash job.sbatch > job.log 2>&1" : driver);
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  TempDir temp_{"slurm_script_test"};
  std::string root_;
};

TEST_F(SlurmScriptRunTest, AFinishedSweepSavesItsStoreAndDoesNotRequeue) {
  EXPECT_EQ(RunScript("FAKE_EXIT=0"), 0) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "run\n");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/scontrol-calls"));
  EXPECT_EQ(ReadFile(root_ + "/srun-args").rfind("--mpi=pmix", 0), 0u);
  EXPECT_FALSE(std::filesystem::exists(root_ + "/local/stylesweep-42"));  // the local copy is cleaned up
}

TEST_F(SlurmScriptRunTest, APreemptedSweepSavesRequeuesAndTheNextStartResumes) {
  EXPECT_EQ(RunScript("FAKE_EXIT=75"), 75) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/scontrol-calls"), "requeue 42\n");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "run\n");
  EXPECT_EQ(RunScript("FAKE_EXIT=0"), 0) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "run\nrun\n");  // started from the saved store
  EXPECT_NE(ReadFile(root_ + "/job.log").find("resuming from " + root_ + "/runs"), std::string::npos);
}

TEST_F(SlurmScriptRunTest, TheSweepSnapshotsIntoTheSubmitFolder) {
  EXPECT_EQ(RunScript("FAKE_EXIT=0"), 0) << ReadFile(root_ + "/job.log");
  const std::string args = ReadFile(root_ + "/sweep-args");
  EXPECT_NE(args.find("--snapshot-every 5m"), std::string::npos) << args;
  EXPECT_NE(args.find("--store " + root_ + "/local/stylesweep-42/store --snapshot " + root_ + "/runs"),
            std::string::npos)
      << args;
}

TEST_F(SlurmScriptRunTest, ASaveCutOffBetweenItsRenamesIsStillResumedFrom) {
  // The node died after `mv runs runs.old-41` and before the new copy was
  // renamed into place: the old store is the newest whole one.
  std::filesystem::create_directories(root_ + "/runs.old-41");
  std::filesystem::create_directories(root_ + "/runs.partial-41");
  Write("runs.old-41/store.db", "old\n");
  Write("runs.old-41/.snapshot-store.db.99.tmp", "half a snapshot");
  Write("runs.partial-41/store.db", "partial\n");
  EXPECT_EQ(RunScript("FAKE_EXIT=0"), 0) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "old\nrun\n");
  EXPECT_NE(ReadFile(root_ + "/job.log").find("resuming from " + root_ + "/runs.old-41"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(root_ + "/runs/.snapshot-store.db.99.tmp")) << "temporary files stay behind";

  // With both, the newer wins: here the store saved just now.
  EXPECT_EQ(RunScript("FAKE_EXIT=0"), 0) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "old\nrun\nrun\n");
}

TEST_F(SlurmScriptRunTest, Usr1ToTheBatchScriptStopsTheSweepThenRequeues) {
  const std::string driver =
      "bash job.sbatch > job.log 2>&1 & pid=$!; "
      "for i in $(seq 200); do [ -f started ] && break; sleep 0.05; done; "
      "kill -USR1 $pid; wait $pid";
  EXPECT_EQ(RunScript("FAKE_WAIT=1", driver), 75) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "run\nkilled\n");
  EXPECT_EQ(ReadFile(root_ + "/scontrol-calls"), "requeue 42\n");
  EXPECT_NE(ReadFile(root_ + "/job.log").find("USR1 received"), std::string::npos);
}

TEST_F(SlurmScriptRunTest, ALauncherHangingAfterLostWorkersIsEndedAndTheJobRequeued) {
  EXPECT_EQ(RunScript("FAKE_LOST=1 STYLESWEEP_LAUNCHER_GRACE=1"), 69) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/scontrol-calls"), "requeue 42\n");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "run\n");
  EXPECT_NE(ReadFile(root_ + "/job.log").find("the launcher still waits"), std::string::npos);
}

TEST_F(SlurmScriptRunTest, TermFromSlurmSavesTheStoreButLeavesRequeueingToSlurm) {
  const std::string driver =
      "bash job.sbatch > job.log 2>&1 & pid=$!; "
      "for i in $(seq 200); do [ -f started ] && break; sleep 0.05; done; "
      "kill -TERM $pid; wait $pid";
  EXPECT_EQ(RunScript("FAKE_WAIT=1", driver), 75) << ReadFile(root_ + "/job.log");
  EXPECT_EQ(ReadFile(root_ + "/runs/store.db"), "run\nkilled\n");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/scontrol-calls"));
}

}  // namespace
}  // namespace stylesweep
