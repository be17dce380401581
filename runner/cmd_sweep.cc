// `stylesweep sweep FILE [key=values ...]`: runs a sweep into the store.
//
// Under mpiexec (-n N) rank 0 coordinates and is the store's only writer;
// ranks 1..N-1 run jobs. Started without mpiexec, one process runs every job
// itself. Re-running a sweep skips FINISHED jobs and resumes the rest.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <boost/program_options.hpp>
#include <mpi.h>

#include "common/duration.h"
#include "common/shared_dir.h"
#include "experiments/sweep.h"
#include "runner/command.h"
#include "experiments/file_hash.h"
#include "runner/hash_cache.h"
#include "runner/memory_check.h"
#include "runner/skipped_images.h"
#include "runner/sweep_command_line.h"
#include "runner/sweep_share.h"
#include "scheduler/band_executor.h"
#include "scheduler/coordinator.h"
#include "scheduler/engine_executor.h"
#include "scheduler/mpi_transport.h"
#include "scheduler/snapshot_schedule.h"
#include "scheduler/stop_signal.h"
#include "scheduler/worker_groups.h"
#include "store/report.h"
#include "store/run_store.h"

namespace stylesweep {
namespace {

namespace po = boost::program_options;

struct SweepFlags {
  std::string file;
  std::vector<std::string> overrides;
  std::string store_dir;
  std::string shared_dir;
  int retries = 1;
  bool retry_failed = false;
  bool restart = false;
  int threads = 0;
  double progress_interval = 5.0;
  std::string progress = "auto";
  std::string share_text;  // "I/N" from --share; empty: the whole sweep
  SweepShare share;        // parsed from share_text
  std::string snapshot_dir;          // --snapshot; empty: no snapshots
  std::string snapshot_every_text;   // --snapshot-every as typed
  double snapshot_every = 300;       // parsed from snapshot_every_text, s
  bool skip_unreadable = false;      // --skip-unreadable: passed on as the override skip_unreadable=true
  bool rehash = false;               // --rehash: distrust the file-hash cache
};

// This machine's name, for the workers' hello.
std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

WorkerHello HelloFor(int rank, const EngineExecutor& executor) {
  return WorkerHello{HostName(), rank, LocalRankFromEnvironment(), static_cast<int>(getpid()),
                     executor.GpuForThisProcess()};
}

// The experiment to record into: the sweep's name, or with --restart the
// first unused "<name>-<n>" (n >= 2), so every job runs again as a new run
// while earlier results stay as they were.
Result<std::string> ExperimentName(RunStore& store, const std::string& name, bool restart) {
  if (!restart) return name;
  SS_ASSIGN_OR_RETURN(std::vector<Experiment> experiments, store.ListExperiments());
  for (int n = 2;; ++n) {
    const std::string candidate = name + "-" + std::to_string(n);
    bool used = false;
    for (const Experiment& experiment : experiments) used = used || experiment.name == candidate;
    if (!used) return candidate;
  }
}

std::string FormatValue(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c] + (c + 1 == row.size() ? "" : std::string(widths[c] - row[c].size() + 2, ' '));
    }
    out << line << "\n";
  }
}

// The summary and the best finished runs by the sweep's metric.
void PrintSummary(const SweepSpec& spec, const SweepSummary& summary, RunStore& store, std::ostream& out) {
  out << "sweep " << summary.experiment << ": " << summary.total << (summary.total == 1 ? " job; " : " jobs; ") << summary.finished << " finished, "
      << summary.failed << " failed, " << summary.killed << " killed, " << summary.not_started << " not started, "
      << summary.skipped << " skipped (already done) in " << FormatValue(summary.seconds) << " s ("
      << summary.attempts << " attempts)\n";
  if (summary.output_errors > 0) out << summary.output_errors << " dataset image(s) could not be written\n";
  Result<Experiment> experiment = store.GetExperiment(summary.experiment);
  if (!experiment.ok() || experiment->run_counts[RunStatus::kFinished] == 0) return;
  RunQuery query;
  query.experiment = summary.experiment;
  query.where = "status = 'finished'";
  query.sort = {"metrics." + spec.metric.name + (spec.metric.minimize ? "" : ":desc")};
  query.limit = spec.metric.top;
  Result<std::vector<RunRecord>> best = store.ListRuns(query);
  if (!best.ok()) {
    out << "best runs unavailable: " << best.status().ToString() << "\n";
    return;
  }
  if (best->empty()) return;
  std::vector<std::string> swept;
  for (const ParameterSpec& parameter : spec.parameters) swept.push_back(parameter.key);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"run", "key", "content", "style"};
  header.insert(header.end(), swept.begin(), swept.end());
  header.push_back(spec.metric.name);
  rows.push_back(header);
  for (const RunRecord& run : *best) {
    std::vector<std::string> row = {std::to_string(run.id), ShortKey(run.config_hash)};
    for (const char* key : {"content", "style"}) row.push_back(run.params.count(key) ? run.params.at(key).ToText() : "");
    for (const std::string& key : swept) row.push_back(run.params.count(key) ? run.params.at(key).ToText() : "");
    auto metric = run.latest_metrics.find(spec.metric.name);
    row.push_back(metric == run.latest_metrics.end() ? "-" : FormatValue(metric->second.value));
    rows.push_back(std::move(row));
  }
  out << "best runs by " << spec.metric.name << " (" << (spec.metric.minimize ? "lowest" : "highest") << " first):\n";
  PrintTable(rows, out);
}

// Rank 0 (or the only process): runs the sweep loaded from flags.file (or
// reports why it did not load) and prints the summary.
// `devices_per_worker`: the ranks each of the transport's workers runs a job
// on (worker_groups.h); it must match the sweep's devices_per_job.
int Coordinate(const SweepFlags& flags, const Result<SweepSpec>& spec, int batch_jobs, Transport& transport,
               int devices_per_worker) {
  // batch_jobs 0: --batch-jobs auto, chosen below once the jobs are known.
  if (!spec.ok()) return ReportError("sweep", spec.status());
  if (spec->devices_per_job != devices_per_worker) {
    const int n = spec->devices_per_job;
    return ReportError("sweep", Status::InvalidArgument(
                                    "devices_per_job " + std::to_string(n) + " runs each job on " + std::to_string(n) +
                                    " MPI ranks (one device each) besides the coordinator; start it under mpiexec: "
                                    "mpiexec -n " + std::to_string(n + 1) + " stylesweep sweep " + flags.file +
                                    " (or -n " + std::to_string(2 * n + 1) + " for two jobs at a time)"));
  }
  if (spec->devices_per_job > 1 && batch_jobs > 1) {
    return ReportError("sweep", Status::InvalidArgument(
                                    "--batch-jobs and devices_per_job " +
                                    std::to_string(spec->devices_per_job) +
                                    " do not combine: batching is for small jobs on one device, a band split for "
                                    "one large image over several"));
  }
  std::ifstream in(flags.file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();

  ExpandContext context;
  context.shared_dir = ResolveSharedDir(flags.shared_dir);
  context.layer_checker = BackboneLayerChecker();
  std::vector<SkippedImage> skipped;
  context.skipped = &skipped;
  FileHasher hasher;
  LoadHashCache(hasher, flags.rehash, "sweep", std::cerr);
  context.hasher = &hasher;
  Result<std::vector<JobSpec>> jobs = ExpandSweep(*spec, context);
  SaveHashCache(hasher, "sweep", std::cerr);
  if (!jobs.ok()) return ReportError("sweep", jobs.status());
  if (flags.share.count > 1) {
    const std::size_t total = jobs->size();
    *jobs = KeepShare(std::move(jobs).value(), flags.share);
    std::cerr << "stylesweep sweep: share " << flags.share.index << "/" << flags.share.count << ": " << jobs->size()
              << " of " << total << " jobs\n";
  }
  if (batch_jobs == 0 && spec->devices_per_job > 1) batch_jobs = 1;  // a band split runs one job at a time
  if (batch_jobs == 0) {
    const BatchChoice choice = ChooseBatchJobs(*jobs, SweepMemoryLimit(*jobs), SharedModelsDir(flags.shared_dir));
    std::cerr << "stylesweep sweep: " << choice.note << "\n";
    batch_jobs = choice.batch_jobs;
  }
  // Before anything runs: images too short for devices_per_job bands, and
  // CUDA jobs (or their batches) larger than the smallest GPU.
  Status fits = CheckSweepJobsFit(*jobs, SharedModelsDir(flags.shared_dir), spec->devices_per_job, batch_jobs);
  if (!fits.ok()) return ReportError("sweep", fits);

  Result<std::unique_ptr<RunStore>> store = RunStore::Open(flags.store_dir);
  if (!store.ok()) return ReportError("sweep", store.status().WithContext("store " + flags.store_dir));
  Result<std::string> experiment = ExperimentName(**store, spec->name, flags.restart);
  if (!experiment.ok()) return ReportError("sweep", experiment.status());
  // A list that cannot be written is not a reason to stop: the paragraph says so.
  (void)ReportSkippedImages("sweep", skipped, SkippedImagesPath(flags.store_dir, *experiment), std::cerr);
  std::unique_ptr<SnapshotSchedule> snapshots;
  if (!flags.snapshot_dir.empty()) {
    if (Status usable = CheckSnapshotFolder(flags.store_dir, flags.snapshot_dir); !usable.ok()) {
      return ReportError("sweep", usable);
    }
    SnapshotScheduleOptions snapshot_options;
    snapshot_options.snapshot_dir = flags.snapshot_dir;
    snapshot_options.snapshot_every = flags.snapshot_every;
    snapshot_options.log = &std::cerr;
    snapshots = std::make_unique<SnapshotSchedule>(flags.store_dir, snapshot_options);
  }

  CoordinatorOptions options;
  options.retries = flags.retries;
  options.retry_failed = flags.retry_failed;
  options.code_version = STYLESWEEP_VERSION;
  options.should_stop = StopRequested;
  options.progress = flags.progress == "none" ? nullptr : &std::cerr;
  options.live_progress = flags.progress == "live" || (flags.progress == "auto" && isatty(STDERR_FILENO) != 0);
  options.progress_interval_seconds = flags.progress_interval;
  options.batch_jobs = batch_jobs;
  options.snapshots = snapshots.get();
  Result<SweepSummary> summary = RunSweep(*spec, *experiment, text.str(), *jobs, **store, transport, options);
  if (!summary.ok()) return ReportError("sweep", summary.status());
  PrintSummary(*spec, *summary, **store, std::cout);
  if (!summary->interrupted) {
    ReportOptions report;
    report.experiment = *experiment;
    report.output_path = DefaultReportPath(flags.store_dir, *experiment);
    Result<ReportSummary> written = WriteReport(store->get(), report);
    if (written.ok()) {
      std::cout << "report: " << written->output_path << "\n";
    } else {
      std::cerr << "stylesweep sweep: warning: no report written: " << written.status().message() << "\n";
    }
  }
  if (summary->interrupted) {
    if (StopIsPreemption()) {
      std::cerr << "stylesweep sweep: stopped for preemption (SIGUSR1); run the same command again to resume\n";
      return kExitPreempted;
    }
    std::cerr << "stylesweep sweep: interrupted by signal " << StopSignalNumber()
              << "; run the same command again to resume\n";
    return kExitInterrupted;
  }
  return summary->failed > 0 || summary->output_errors > 0 ? kExitFailure : kExitOk;
}

// Rank 0 under mpiexec: coordinates over `transport`, then stops the
// workers; ends the MPI job when some do not stop.
int CoordinateOverMpi(const SweepFlags& flags, const Result<SweepSpec>& spec, int batch_jobs,
                      MpiTransport& transport, int devices_per_worker) {
  const int code = Coordinate(flags, spec, batch_jobs, transport, devices_per_worker);
  if (!transport.Shutdown(30.0)) {
    std::cerr << "stylesweep sweep: some workers did not stop within 30 s; ending the MPI job\n";
    MPI_Abort(MPI_COMM_WORLD, code == kExitOk ? kExitFailure : code);
  }
  return code;
}

// Under mpiexec with devices_per_job > 1: rank 0 coordinates the group
// leaders; each group runs its jobs as band splits (worker_groups.h,
// band_executor.h). `spec` is loaded on rank 0 only.
int RunGroupedSweep(const SweepFlags& flags, const Result<SweepSpec>& spec, int batch_jobs, int devices_per_job,
                    const EngineExecutorOptions& executor_options, int rank) {
  Result<WorkerGroups> groups = FormWorkerGroups(MPI_COMM_WORLD, devices_per_job);
  if (!groups.ok()) {
    // Every rank has the same error; rank 0 says it.
    return rank == 0 ? ReportError("sweep", groups.status()) : kExitFailure;
  }
  int code = kExitOk;
  if (rank == 0) {
    MpiTransport transport(MPI_COMM_WORLD, groups->leaders);
    code = CoordinateOverMpi(flags, spec, batch_jobs, transport, devices_per_job);
  } else if (groups->group_rank == 0) {
    BandSplitExecutor executor(groups->group, executor_options);
    WorkerHello hello{HostName(), rank, LocalRankFromEnvironment(), static_cast<int>(getpid()), executor.GroupGpus()};
    Status status = RunMpiWorker(MPI_COMM_WORLD, executor, hello, StopRequested);
    executor.StopFollowers();
    if (!status.ok()) code = ReportError("sweep", status.WithContext("rank " + std::to_string(rank)));
  } else {
    Status status = RunBandFollower(groups->group, executor_options, StopRequested);
    if (!status.ok()) code = ReportError("sweep", status.WithContext("rank " + std::to_string(rank)));
  }
  if (groups->group != MPI_COMM_NULL) MPI_Comm_free(&groups->group);
  return code;
}

int RunSweepCommand(int argc, char** argv) {
  SweepFlags flags;
  std::string batch_jobs_text = "1";
  po::options_description visible("sweep options");
  visible.add_options()
      ("help,h", "show this help")
      ("store", po::value(&flags.store_dir)->default_value(DefaultStoreDir()), "store folder (default: $STYLESWEEP_STORE, else runs/)")
      ("retries", po::value(&flags.retries)->default_value(1), "extra attempts for a job that fails in this sweep")
      ("retry-failed", po::bool_switch(&flags.retry_failed), "also run jobs recorded FAILED by an earlier sweep")
      ("restart", po::bool_switch(&flags.restart), "run every job again, as new runs in a new experiment NAME-2, NAME-3, ...")
      ("shared-dir", po::value(&flags.shared_dir)->value_name("DIR"),
       "folder with models/ and images/ (default: $STYLESWEEP_SHARED_DIR or " STYLESWEEP_DEFAULT_SHARED_DIR ")")
      ("share", po::value(&flags.share_text)->value_name("I/N"),
       "run only share I of N (0 <= I < N): the jobs at positions p with p mod N = I, for job arrays")
      ("threads", po::value(&flags.threads)->default_value(0), "CPU threads per worker (0: LibTorch's default)")
      ("progress", po::value(&flags.progress)->default_value("auto")->value_name("auto|live|plain|none"),
       "progress display: a live line (auto: when stderr is a terminal), plain lines, or none")
      ("progress-interval", po::value(&flags.progress_interval)->default_value(5.0), "seconds between plain progress lines")
      ("batch-jobs", po::value(&batch_jobs_text)->default_value("1")->value_name("K|auto"),
       "jobs a worker runs at once as one batch (same backbone, size and optimiser settings; one forward/backward "
       "for all); auto: the largest batch (at most 16) that fits the smallest GPU, 1 on the CPU")
      ("snapshot", po::value(&flags.snapshot_dir)->value_name("DIR"),
       "while the sweep runs, write a consistent copy of the store (a complete store: give it as --store to "
       "runs, report or sweep) to DIR, e.g. on another disk or the submit node's filesystem")
      ("snapshot-every", po::value(&flags.snapshot_every_text)->value_name("DURATION"),
       "time between snapshots, e.g. 90s, 5m, 1h (default 5m with --snapshot)")
      ("skip-unreadable", po::bool_switch(&flags.skip_unreadable),
       "leave out images that cannot be read or decoded instead of refusing the sweep (sweep key "
       "skip_unreadable); they are listed once, in full in STORE/unreadable-NAME.txt")
      ("rehash", po::bool_switch(&flags.rehash),
       "read and hash every image and weights file again instead of trusting the file-hash cache (see plan --help)");
  po::variables_map vm;
  if (int code = ParseSweepCommandLine("sweep", argc, argv, visible, &flags.file, &flags.overrides, &vm); code >= 0) {
    return code;
  }
  if (flags.skip_unreadable) flags.overrides.push_back("skip_unreadable=true");
  if (vm.count("help")) {
    std::cout << "usage: stylesweep sweep SWEEP.yaml [key=v1,v2 ...] [--store DIR] [--retries N]\n"
                 "                        [--retry-failed] [--restart] [--threads N] [--share I/N]\n"
                 "                        [--batch-jobs K] [--snapshot DIR [--snapshot-every 5m]]\n"
                 "       mpiexec -n N stylesweep sweep SWEEP.yaml ...\n\n"
                 "Runs a sweep's jobs and records them in the store. Under mpiexec rank 0 coordinates\n"
                 "(and alone writes the store) and ranks 1..N-1 run jobs, each on the GPU of its local\n"
                 "rank when the sweep's device is cuda. Without mpiexec one process runs every job.\n"
                 "Running the same command again skips finished jobs and resumes the rest.\n"
                 "SIGINT/SIGTERM stop cleanly: running jobs are recorded KILLED (exit 130). SIGUSR1\n"
                 "stops the same way for preemption and exits 75, the batch script's cue to requeue.\n"
                 "--share I/N splits a large sweep into N disjoint shares (one store each; join them\n"
                 "with `stylesweep merge`).\n"
                 "--snapshot DIR keeps a complete copy of the store in DIR while the sweep runs (rank 0\n"
                 "writes it every --snapshot-every): a lost node loses at most one interval plus one job\n"
                 "of finished work; `stylesweep sweep --store DIR` resumes from it (docs/CLUSTER.md).\n"
                 "With devices_per_job: K in the sweep (or the override devices_per_job=K), the workers\n"
                 "of each node form groups of K ranks and each job runs on a group as one band split\n"
                 "(docs/BAND_SPLIT.md): mpiexec -n 1+G*K runs G jobs at a time.\n\n"
              << visible;
    return kExitOk;
  }
  if (flags.file.empty()) return ReportError("sweep", Status::InvalidArgument("give a sweep file: stylesweep sweep SWEEP.yaml"));
  if (flags.progress != "auto" && flags.progress != "live" && flags.progress != "plain" && flags.progress != "none") {
    return ReportError("sweep", Status::InvalidArgument("--progress must be auto, live, plain or none, not '" + flags.progress + "'"));
  }
  if (flags.retries < 0) return ReportError("sweep", Status::InvalidArgument("--retries must be >= 0"));
  if (!flags.share_text.empty()) {
    Result<SweepShare> share = ParseSweepShare(flags.share_text);
    if (!share.ok()) return ReportError("sweep", share.status());
    flags.share = *share;
  }
  if (!flags.snapshot_every_text.empty()) {
    if (flags.snapshot_dir.empty()) {
      return ReportError("sweep", Status::InvalidArgument("--snapshot-every needs --snapshot DIR"));
    }
    Result<double> every = ParseDuration(flags.snapshot_every_text, "--snapshot-every");
    if (!every.ok()) return ReportError("sweep", every.status());
    flags.snapshot_every = *every;
  }
  Result<int> parsed_batch_jobs = ParseBatchJobs(batch_jobs_text);
  if (!parsed_batch_jobs.ok()) return ReportError("sweep", parsed_batch_jobs.status());
  const int batch_jobs = *parsed_batch_jobs;  // 0: auto

  EngineExecutorOptions executor_options;
  executor_options.models_dir = SharedModelsDir(flags.shared_dir);
  executor_options.num_threads = flags.threads;
  executor_options.local_rank = LocalRankFromEnvironment();

  if (!LaunchedUnderMpi()) {
    InstallStopSignalHandlers();
    EngineExecutor executor(executor_options);
    LocalTransport transport(&executor, StopRequested, HelloFor(0, executor));
    return Coordinate(flags, LoadSweepFile(flags.file, flags.overrides), batch_jobs, transport, 1);
  }

  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  InstallStopSignalHandlers();
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = kExitOk;
  // Rank 0 loads the sweep (a file the other ranks may not see) and tells
  // every rank its devices_per_job; 1 when it does not load, which
  // Coordinate reports.
  Result<SweepSpec> spec = Status::Internal("the sweep file is read on rank 0 only");
  int devices_per_job = 1;
  if (rank == 0) {
    spec = LoadSweepFile(flags.file, flags.overrides);
    if (spec.ok()) devices_per_job = spec->devices_per_job;
  }
  MPI_Bcast(&devices_per_job, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (size == 1) {
    EngineExecutor executor(executor_options);
    LocalTransport transport(&executor, StopRequested, HelloFor(0, executor));
    code = Coordinate(flags, spec, batch_jobs, transport, 1);
  } else if (devices_per_job > 1) {
    code = RunGroupedSweep(flags, spec, batch_jobs, devices_per_job, executor_options, rank);
  } else if (rank == 0) {
    MpiTransport transport(MPI_COMM_WORLD);
    code = CoordinateOverMpi(flags, spec, batch_jobs, transport, 1);
  } else {
    EngineExecutor executor(executor_options);
    Status status = RunMpiWorker(MPI_COMM_WORLD, executor, HelloFor(rank, executor), StopRequested);
    if (!status.ok()) code = ReportError("sweep", status.WithContext("rank " + std::to_string(rank)));
  }
  MPI_Finalize();
  return code;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("sweep", "run a sweep's jobs (locally, or under mpiexec) into the store", stylesweep::RunSweepCommand);
