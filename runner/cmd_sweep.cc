// `stylesweep sweep FILE [key=values ...]`: runs a sweep into the store.
//
// Under mpiexec (-n N) rank 0 coordinates and is the store's only writer;
// ranks 1..N-1 run jobs. Started without mpiexec, one process runs every job
// itself. Re-running a sweep skips FINISHED jobs and resumes the rest.
// This file parses the flags, hands them to the scheduler (sweep_run.h) and
// prints what came back; the exit code is its verdict. It is built into both
// executables: the engine, where it runs jobs, and the front, which runs it
// as rank 0 of several ranks (runner/sweep_command.h).
#include <cstdio>
#include <iostream>

#include <boost/program_options.hpp>

#include "common/duration.h"
#include "common/text.h"
#include "runner/command.h"
#include "runner/sweep_command.h"
#include "runner/sweep_command_line.h"
#include "scheduler/memory_check.h"
#include "scheduler/stop_signal.h"
#include "scheduler/sweep_run.h"
#include "scheduler/worker_timeout.h"
#include "store/format.h"
#include "store/run_types.h"

namespace stylesweep {
namespace {

namespace po = boost::program_options;

std::string FormatValue(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

// The finished runs on the front of the judge's style and content
// distances (outcome.front, store/pareto.h), when the runs carry them; past
// kMaxFrontRuns finished runs, the command that lists it instead.
void PrintParetoFront(const SweepOutcome& outcome, const std::vector<std::string>& swept, std::ostream& out) {
  if (outcome.front_left_out > 0) out << FrontLeftOutNote(outcome.summary.experiment, outcome.front_left_out) << "\n";
  if (outcome.front.empty()) return;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"run", "content", "style"};
  header.insert(header.end(), swept.begin(), swept.end());
  header.insert(header.end(), {"style_distance", "content_distance", "ssim"});
  rows.push_back(header);
  for (const RunRecord& run : outcome.front) {
    std::vector<std::string> row = {std::to_string(run.id)};
    for (const char* key : {"content", "style"}) row.push_back(run.params.count(key) ? run.params.at(key).ToText() : "");
    for (const std::string& key : swept) row.push_back(run.params.count(key) ? run.params.at(key).ToText() : "");
    for (const char* key : {"eval/style_distance", "eval/content_distance", "eval/ssim"}) {
      auto metric = run.latest_metrics.find(key);
      row.push_back(metric == run.latest_metrics.end() ? "-" : FormatValue(metric->second.value));
    }
    rows.push_back(std::move(row));
  }
  const std::string& experiment = outcome.summary.experiment;
  out << "Pareto front of eval/style_distance and eval/content_distance (" << outcome.front.size() << " of "
      << outcome.front_of << " runs; `stylesweep runs -e " << experiment
      << " --pareto eval/style_distance,eval/content_distance`):\n";
  out << AlignColumns(rows);
}

// The summary and the best finished runs by the sweep's metric.
void PrintSummary(const SweepOutcome& outcome, std::ostream& out) {
  const SweepSpec& spec = outcome.spec;
  const SweepSummary& summary = outcome.summary;
  out << "sweep " << summary.experiment << ": " << summary.total << (summary.total == 1 ? " job; " : " jobs; ") << summary.finished << " finished, "
      << summary.failed << " failed, " << summary.killed << " killed, " << summary.not_started << " not started, "
      << summary.skipped << " skipped (already done) in " << FormatDuration(summary.seconds) << " ("
      << summary.attempts << (summary.attempts == 1 ? " attempt)\n" : " attempts)\n");
  if (summary.output_errors > 0) out << summary.output_errors << " dataset image(s) could not be written\n";
  if (!spec.output.keep.empty()) {
    out << "dataset " << spec.output.dataset_dir << ": " << summary.dataset_kept << " image(s) kept, "
        << summary.dataset_dropped << " dropped by output.keep (" << spec.output.keep << "); every run stays in the store\n";
  }
  if (!outcome.best_error.empty()) {
    out << "best runs unavailable: " << outcome.best_error << "\n";
    return;
  }
  if (outcome.best.empty()) return;
  std::vector<std::string> swept;
  for (const ParameterSpec& parameter : spec.parameters) swept.push_back(parameter.key);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"run", "key", "content", "style"};
  header.insert(header.end(), swept.begin(), swept.end());
  header.push_back(spec.metric.name);
  rows.push_back(header);
  for (const RunRecord& run : outcome.best) {
    std::vector<std::string> row = {std::to_string(run.id), ShortKey(run.config_hash)};
    for (const char* key : {"content", "style"}) row.push_back(run.params.count(key) ? run.params.at(key).ToText() : "");
    for (const std::string& key : swept) row.push_back(run.params.count(key) ? run.params.at(key).ToText() : "");
    auto metric = run.latest_metrics.find(spec.metric.name);
    row.push_back(metric == run.latest_metrics.end() ? "-" : FormatValue(metric->second.value));
    rows.push_back(std::move(row));
  }
  out << "best runs by " << spec.metric.name << " (" << (spec.metric.minimize ? "lowest" : "highest") << " first):\n";
  out << AlignColumns(rows);
  PrintParetoFront(outcome, swept, out);
}

// The process's exit code for its part of the sweep.
int ExitCodeForOutcome(const SweepOutcome& outcome) {
  if (!outcome.status.ok()) return ExitCodeFor(outcome.status);
  if (!outcome.coordinator) return kExitOk;
  if (outcome.summary.interrupted) return StopIsPreemption() ? kExitPreempted : kExitInterrupted;
  if (outcome.summary.workers_lost > 0) return kExitWorkersLost;
  return outcome.summary.failed > 0 || outcome.summary.output_errors > 0 ? kExitFailure : kExitOk;
}

// Prints this process's outcome and returns its exit code.
int Finish(const SweepOutcome& outcome) {
  if (!outcome.status.ok()) return outcome.quiet ? ExitCodeFor(outcome.status) : ReportError("sweep", outcome.status);
  if (!outcome.coordinator) return kExitOk;
  PrintSummary(outcome, std::cout);
  if (!outcome.report_path.empty()) std::cout << "report: " << outcome.report_path << "\n";
  if (!outcome.report_error.empty()) {
    std::cerr << "stylesweep sweep: warning: no report written: " << outcome.report_error << "\n";
  }
  if (outcome.summary.interrupted) {
    if (StopIsPreemption()) {
      std::cerr << "stylesweep sweep: stopped for preemption (SIGUSR1); run the same command again to resume\n";
    } else {
      std::cerr << "stylesweep sweep: interrupted by signal " << StopSignalNumber()
                << "; run the same command again to resume\n";
    }
  }
  if (outcome.summary.workers_lost > 0) {
    std::cerr << "stylesweep sweep: " << outcome.summary.workers_lost << " worker(s) lost (see above); run the same "
              << "command again to run what they left\n";
  }
  return ExitCodeForOutcome(outcome);
}

// The flags with a syntax of their own, as typed; CheckSweepFlags turns them
// into the request's fields.
struct SweepFlags {
  std::string batch_jobs_text = "1";       // --batch-jobs: K or auto
  std::string share_text;                  // "I/N" from --share; empty: the whole sweep
  std::string snapshot_every_text;         // --snapshot-every as typed; empty: 5m with --snapshot
  std::string worker_timeout_text = "5m";  // --worker-timeout as typed
  bool skip_unreadable = false;            // --skip-unreadable: passed on as the override skip_unreadable=true
};

po::options_description SweepOptions(SweepRequest& request, SweepFlags& flags) {
  po::options_description visible("sweep options");
  visible.add_options()
      ("help,h", "show this help")
      ("store", po::value(&request.store_dir)->value_name("DIR")->default_value(DefaultStoreDir()), "store folder (default: $STYLESWEEP_STORE, else runs/)")
      ("retries", po::value(&request.retries)->value_name("N")->default_value(1), "extra attempts for a job that fails in this sweep")
      ("retry-failed", po::bool_switch(&request.retry_failed), "also run jobs recorded FAILED by an earlier sweep")
      ("restart", po::bool_switch(&request.restart), "run every job again, as new runs in a new experiment NAME-2, NAME-3, ...")
      ("shared-dir", po::value(&request.shared_dir)->value_name("DIR"),
       "folder with models/ and images/ (default: $STYLESWEEP_SHARED_DIR or " STYLESWEEP_DEFAULT_SHARED_DIR ")")
      ("share", po::value(&flags.share_text)->value_name("I/N"),
       "run only share I of N (0 <= I < N): the jobs at positions p with p mod N = I, for job arrays")
      ("threads", po::value(&request.threads)->value_name("N")->default_value(0), "CPU threads per worker (0: LibTorch's default)")
      ("progress", po::value(&request.progress)->default_value("auto")->value_name("auto|live|plain|none"),
       "progress display: a live line (auto: when stderr is a terminal), plain lines, or none")
      ("progress-interval", po::value(&request.progress_interval_seconds)->value_name("SECONDS")->default_value(5.0), "seconds between plain progress lines")
      ("batch-jobs", po::value(&flags.batch_jobs_text)->default_value("1")->value_name("K|auto"),
       "jobs a worker runs at once as one batch (same backbone, size and optimiser settings; one forward/backward "
       "for all); auto: the largest batch (at most 16) that fits the smallest GPU, 1 on the CPU")
      ("snapshot", po::value(&request.snapshot_dir)->value_name("DIR"),
       "while the sweep runs, write a consistent copy of the store (a complete store: give it as --store to "
       "runs, report or sweep) to DIR, e.g. on another disk or the submit node's filesystem")
      ("snapshot-every", po::value(&flags.snapshot_every_text)->value_name("DURATION"),
       "time between snapshots, e.g. 90s, 5m, 1h (default 5m with --snapshot)")
      ("worker-timeout", po::value(&flags.worker_timeout_text)->default_value("5m")->value_name("DURATION"),
       "under mpiexec: a worker running a job and silent this long (90s, 5m, 1h; at least 5s) is lost: its jobs "
       "go to the others and the sweep exits 69")
      ("exit-file", po::value(&request.exit_file)->value_name("PATH"),
       "write the sweep's exit status to PATH once the store is closed (for batch scripts: the launcher may "
       "still wait for a lost node)")
      ("skip-unreadable", po::bool_switch(&flags.skip_unreadable),
       "leave out images that cannot be read or decoded instead of refusing the sweep (sweep key "
       "skip_unreadable); they are listed once, in full in STORE/unreadable-NAME.txt")
      ("rehash", po::bool_switch(&request.rehash),
       "read and hash every image and weights file again instead of trusting the file-hash cache (see plan --help)");
  return visible;
}

void PrintSweepHelp(const po::options_description& visible) {
  std::cout << "usage: stylesweep sweep SWEEP.yaml [key=v1,v2 ...] [--store DIR] [--retries N]\n"
               "                        [--retry-failed] [--restart] [--threads N] [--share I/N]\n"
               "                        [--batch-jobs K] [--snapshot DIR [--snapshot-every 5m]]\n"
               "                        [--worker-timeout 5m] [--exit-file PATH]\n"
               "                        [--skip-unreadable] [--rehash]\n"
               "       mpiexec -n N stylesweep sweep SWEEP.yaml ...\n\n"
               "Runs a sweep's jobs and records them in the store. Under mpiexec rank 0 coordinates\n"
               "(and alone writes the store) and ranks 1..N-1 run jobs, each on the GPU of its local\n"
               "rank when the sweep's device is cuda. Without mpiexec one process runs every job.\n"
               "Running the same command again skips finished jobs and resumes the rest.\n"
               "SIGINT/SIGTERM stop cleanly: running jobs are recorded KILLED (exit 130). SIGUSR1\n"
               "stops the same way for preemption and exits 75, the batch script's cue to requeue.\n"
               "Under mpiexec a worker running a job and silent for --worker-timeout is lost: its jobs\n"
               "run on the other workers and the sweep exits 69 (requeue too; docs/CLUSTER.md).\n"
               "--share I/N splits a large sweep into N disjoint shares (one store each; join them\n"
               "with `stylesweep merge`).\n"
               "--snapshot DIR keeps a complete copy of the store in DIR while the sweep runs (rank 0\n"
               "writes it every --snapshot-every): a lost node loses at most one interval plus one job\n"
               "of finished work; `stylesweep sweep --store DIR` resumes from it (docs/CLUSTER.md).\n"
               "With devices_per_job: K in the sweep (or the override devices_per_job=K), the workers\n"
               "of each node form groups of K ranks and each job runs on a group as one band split\n"
               "(docs/BAND_SPLIT.md): mpiexec -n 1+G*K runs G jobs at a time. A CPU sweep with\n"
               "bands_across_nodes: true may put a group's ranks on several nodes.\n\n"
            << visible;
}

// Checks the flags and fills the request's share, snapshot interval, worker
// timeout and batch size from them.
Status CheckSweepFlags(const SweepFlags& flags, SweepRequest& request) {
  if (request.file.empty()) return Status::InvalidArgument("give a sweep file: stylesweep sweep SWEEP.yaml");
  if (request.progress != "auto" && request.progress != "live" && request.progress != "plain" && request.progress != "none") {
    return Status::InvalidArgument("--progress must be auto, live, plain or none, not '" + request.progress + "'");
  }
  if (request.retries < 0) return Status::InvalidArgument("--retries must be >= 0");
  if (!flags.share_text.empty()) {
    SS_ASSIGN_OR_RETURN(request.share, ParseSweepShare(flags.share_text));
  }
  if (!flags.snapshot_every_text.empty()) {
    if (request.snapshot_dir.empty()) return Status::InvalidArgument("--snapshot-every needs --snapshot DIR");
    SS_ASSIGN_OR_RETURN(request.snapshot_every_seconds, ParseDuration(flags.snapshot_every_text, "--snapshot-every"));
  }
  SS_ASSIGN_OR_RETURN(request.worker_timeout_seconds, ParseWorkerTimeout(flags.worker_timeout_text));
  SS_ASSIGN_OR_RETURN(request.batch_jobs, ParseBatchJobs(flags.batch_jobs_text));  // 0: auto
  return Status::Ok();
}

int RunSweepCommand(int argc, char** argv) {
  SweepRequest request;
  SweepFlags flags;
  const po::options_description visible = SweepOptions(request, flags);
  po::variables_map vm;
  if (int code = ParseSweepCommandLine("sweep", argc, argv, visible, &request.file, &request.overrides, &vm); code >= 0) {
    return code;
  }
  if (flags.skip_unreadable) request.overrides.push_back("skip_unreadable=true");
  if (vm.count("help")) {
    PrintSweepHelp(visible);
    return kExitOk;
  }
  Status checked = CheckSweepFlags(flags, request);
  if (!checked.ok()) return ReportError("sweep", checked);
  request.log = &std::cerr;
  request.finish = Finish;
  const SweepOutcome outcome = RunSweepRequest(request, SweepWorkersOfThisExecutable());
  if (outcome.finished) return outcome.exit_code;
  const int code = Finish(outcome);
  if (outcome.coordinator) WriteSweepExitFile(request.exit_file, code, std::cerr);
  return code;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("sweep", "run a sweep's jobs (locally, or under mpiexec) into the store", stylesweep::RunSweepCommand);
