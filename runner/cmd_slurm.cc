// `stylesweep slurm SWEEP.yaml [key=values ...]`: writes a Slurm batch
// script for the sweep (runner/slurm_script.h) and submits it with sbatch,
// or prints it with --dry-run.
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include <boost/program_options.hpp>

#include "common/shared_dir.h"
#include "experiments/sweep.h"
#include "runner/command.h"
#include "runner/engine_routes.h"
#include "runner/slurm_script.h"
#include "runner/sweep_command_line.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

static_assert(kSlurmRequeueExitCode == kExitPreempted, "the batch script requeues on the sweep's preemption exit code");
static_assert(kSlurmLostWorkersExitCode == kExitWorkersLost, "the batch script requeues on the sweep's lost-worker exit code");

// A job name Slurm and file names accept: the sweep's name with anything but
// letters, digits, '-', '_' and '.' replaced by '-'.
std::string JobNameFor(const std::string& sweep_name) {
  std::string name = "stylesweep-" + sweep_name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '-';
  }
  return name;
}

// `path` made absolute and normal, without a trailing '/' ("." -> "/home/ada").
std::string Absolute(const std::string& path) {
  std::string absolute = fs::absolute(path).lexically_normal().string();
  while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  return absolute;
}

// Runs `sbatch --parsable SCRIPT`; returns the job id it prints.
Result<std::string> Submit(const std::string& script_path) {
  const std::string command = "sbatch --parsable " + ShellQuote(script_path) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::IoError("cannot run sbatch");
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back()))) output.pop_back();
  if (status != 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      return Status::Unavailable("sbatch not found: run this on a Slurm login node (or use --dry-run)");
    }
    return Status::Unavailable("sbatch refused " + script_path + ": " + output);
  }
  const std::size_t last_line = output.find_last_of('\n');
  std::string job_id = last_line == std::string::npos ? output : output.substr(last_line + 1);
  if (const std::size_t semicolon = job_id.find(';'); semicolon != std::string::npos) job_id.resize(semicolon);
  return job_id;
}

// kInvalidArgument when the allocation's workers cannot form the sweep's
// groups of devices_per_job (scheduler/worker_groups.h): a multiple per node,
// or in all with bands_across_nodes.
Status CheckBandPlacement(const SweepSpec& spec, const SlurmJobOptions& job) {
  const int workers_per_node = SlurmWorkersPerNode(job);
  const int devices_per_job = spec.devices_per_job;
  if (spec.bands_across_nodes && workers_per_node * job.nodes % devices_per_job != 0) {
    return Status::InvalidArgument("devices_per_job " + std::to_string(devices_per_job) +
                                   " with bands_across_nodes runs each job on that many workers, but " +
                                   std::to_string(job.nodes) + " node(s) x " + std::to_string(workers_per_node) +
                                   " worker(s) is not a multiple of it; change --nodes or --tasks-per-node");
  }
  if (!spec.bands_across_nodes && workers_per_node % devices_per_job != 0) {
    return Status::InvalidArgument("devices_per_job " + std::to_string(devices_per_job) +
                                   " runs each job on that many GPUs of one node, but each node gets " +
                                   std::to_string(workers_per_node) + " worker(s); use --gpus-per-node " +
                                   std::to_string(devices_per_job) + " or a multiple of it (or, for a CPU " +
                                   "sweep, bands_across_nodes: true to let a job's group span nodes)");
  }
  return Status::Ok();
}

// The slurm command's own flags; the job's settings go straight into
// SlurmJobOptions.
struct SlurmFlags {
  std::string script_path;  // --script; "" writes JOB-NAME.sbatch
  std::string store_dir;    // --store
  std::string log_dir;      // --log-dir; default "."
  std::string shared_dir;   // --shared-dir; "" takes the default
  std::string job_name;     // --job-name; "" gives stylesweep-SWEEPNAME
  bool dry_run = false;     // --dry-run
};

po::options_description SlurmOptions(SlurmJobOptions& job, SlurmFlags& flags) {
  po::options_description visible("slurm options");
  visible.add_options()
      ("help,h", "show this help")
      ("nodes", po::value(&job.nodes)->value_name("N")->default_value(1), "nodes per allocation")
      ("gpus-per-node", po::value(&job.gpus_per_node)->value_name("N")->default_value(1), "GPUs per node; 0: CPU only")
      ("tasks-per-node", po::value(&job.tasks_per_node)->value_name("N")->default_value(0),
       "workers per node (0: one per GPU, or 1 without GPUs); rank 0 coordinates on top of these")
      ("cpus-per-task", po::value(&job.cpus_per_task)->value_name("N")->default_value(0), "CPUs per rank (0: the site's default)")
      ("time", po::value(&job.time_limit)->value_name("HH:MM:SS"), "time limit per allocation ([D-]HH:MM:SS)")
      ("partition", po::value(&job.partition)->value_name("P"), "partition")
      ("account", po::value(&job.account)->value_name("A"), "account to charge")
      ("array", po::value(&job.array_size)->default_value(0)->value_name("K"),
       "split the sweep into K allocations (a job array), each running one share into STORE-share-<i>")
      ("store", po::value(&flags.store_dir)->value_name("DIR")->default_value(DefaultStoreDir()),
       "store folder in the submit folder; the job works on a local copy and saves it here")
      ("log-dir", po::value(&flags.log_dir)->default_value(".")->value_name("DIR"), "folder for the job logs")
      ("script", po::value(&flags.script_path)->value_name("PATH"), "where to write the batch script (default: JOB-NAME.sbatch)")
      ("job-name", po::value(&flags.job_name)->value_name("NAME"), "Slurm job name (default: stylesweep-SWEEPNAME)")
      ("launcher", po::value(&job.launcher)->default_value("auto")->value_name("auto|srun-pmix|srun-pmi2|mpiexec"),
       "how ranks start: srun with the site's PMIx or PMI2 (auto picks), or mpiexec inside the allocation")
      ("signal-seconds", po::value(&job.signal_seconds)->value_name("SECONDS")->default_value(120),
       "seconds before the time limit that the job is told to stop, save and requeue")
      ("snapshot-every", po::value(&job.snapshot_every)->default_value("5m")->value_name("DURATION"),
       "while the job runs, copy the store into --store this often (e.g. 90s, 5m): a node that dies loses at most "
       "this much finished work plus one job")
      ("sbatch", po::value(&job.extra_sbatch)->composing()->value_name("OPTION"),
       "one more sbatch option for the script, e.g. --sbatch=--mem=32G (repeatable)")
      ("shared-dir", po::value(&flags.shared_dir)->value_name("DIR"),
       "folder with models/ and images/ as the nodes see it (default: $STYLESWEEP_SHARED_DIR or " STYLESWEEP_DEFAULT_SHARED_DIR ")")
      ("threads", po::value(&job.threads)->value_name("N")->default_value(0), "CPU threads per worker (0: LibTorch's default)")
      ("worker-timeout", po::value(&job.worker_timeout)->value_name("DURATION"),
       "the sweep's --worker-timeout (default 5m): a silent worker is lost after this long")
      ("dry-run", po::bool_switch(&flags.dry_run), "print the batch script; write and submit nothing");
  return visible;
}

void PrintSlurmHelp(const po::options_description& visible) {
  std::cout << "usage: stylesweep slurm SWEEP.yaml [key=v1,v2 ...] [--nodes N] [--gpus-per-node G]\n"
               "                        [--time HH:MM:SS] [--partition P] [--account A] [--array K] [--dry-run]\n\n"
               "Writes a Slurm batch script that runs the sweep with one MPI rank per GPU (plus rank 0,\n"
               "the coordinator) and submits it with sbatch. The store is kept on the first node's local\n"
               "disk, snapshotted into --store every --snapshot-every while it runs (so a node failure\n"
               "loses little) and copied back when the job ends. 120 s before the time limit, or when\n"
               "preempted, the job records in-flight runs KILLED, saves the store, requeues itself and\n"
               "resumes where it stopped. See docs/CLUSTER.md.\n\n"
            << visible;
}

// This binary's path, for the script; refuses a missing engine executable now
// rather than when the job starts after waiting in the queue (the script's
// `stylesweep sweep` runs there).
Result<std::string> StylesweepBinary() {
  std::error_code error;
  const fs::path binary = fs::read_symlink("/proc/self/exe", error);
  if (error) return Status::IoError("cannot find the stylesweep binary: " + error.message());
  SS_ASSIGN_OR_RETURN(const std::string engine, EngineExecutablePath());
  if (access(engine.c_str(), X_OK) != 0) {
    return Status::NotFound("the engine executable " + engine +
                            " is missing or not executable; the batch script's sweep runs "
                            "there, so the job would fail when it starts");
  }
  return binary.string();
}

// Fills the job's names and absolute paths, then checks the whole job and
// that its workers form the sweep's groups of devices_per_job.
Status CompleteJob(const SlurmFlags& flags, const std::string& file, const std::vector<std::string>& overrides,
                   const SweepSpec& spec, const std::string& shared_dir, SlurmJobOptions& job) {
  SS_ASSIGN_OR_RETURN(job.stylesweep_path, StylesweepBinary());
  job.job_name = flags.job_name.empty() ? JobNameFor(spec.name) : flags.job_name;
  job.sweep_file = Absolute(file);
  job.overrides = overrides;
  job.shared_dir = Absolute(shared_dir);
  job.store_dir = Absolute(flags.store_dir);
  job.work_dir = Absolute(".");
  job.log_dir = Absolute(flags.log_dir);
  SS_RETURN_IF_ERROR(ValidateSlurmJobOptions(job));
  return CheckBandPlacement(spec, job);
}

// Writes the script to `script_path` and creates the log folder.
Status WriteScript(const std::string& script, const std::string& script_path, const SlurmJobOptions& job) {
  std::error_code error;
  fs::create_directories(job.log_dir, error);
  if (error) return Status::IoError("cannot create --log-dir " + job.log_dir + ": " + error.message());
  std::ofstream out(script_path, std::ios::binary | std::ios::trunc);
  out << script;
  if (!out.flush()) return Status::IoError("cannot write " + script_path);
  return Status::Ok();
}

void PrintSubmitted(const std::string& job_id, size_t job_count, const std::string& sweep_name,
                    const std::string& script_path, const SlurmJobOptions& job) {
  const bool array = job.array_size >= 2;
  std::cout << "submitted job " << job_id << ": " << job_count << " jobs of sweep " << sweep_name << " on "
            << job.nodes << " node(s) x " << SlurmTaskCount(job) - 1 << " worker(s)"
            << (array ? " per allocation, " + std::to_string(job.array_size) + " allocations" : "") << "\n"
            << "script: " << script_path << "\n"
            << "logs:   " << job.log_dir << "/" << job.job_name << "-" << job_id << (array ? "_<i>" : "") << ".out\n"
            << "store:  " << job.store_dir << (array ? "-share-<i>" : "") << " (a snapshot every " << job.snapshot_every
            << " while it runs; `stylesweep runs` and `report` read it)\n";
  if (array) {
    std::cout << "then:   stylesweep merge " << job.store_dir << "-share-* -o " << job.store_dir << "\n";
  }
  std::cout << "watch:  squeue -j " << job_id << "\n";
}

int RunSlurmCommand(int argc, char** argv) {
  SlurmJobOptions job;
  SlurmFlags flags;
  std::string file;
  std::vector<std::string> overrides;
  const po::options_description visible = SlurmOptions(job, flags);
  po::variables_map vm;
  if (int code = ParseSweepCommandLine("slurm", argc, argv, visible, &file, &overrides, &vm); code >= 0) return code;
  if (vm.count("help")) {
    PrintSlurmHelp(visible);
    return kExitOk;
  }
  if (file.empty()) return ReportError("slurm", Status::InvalidArgument("give a sweep file: stylesweep slurm SWEEP.yaml"));

  // Check the sweep here, before it waits in the queue: syntax, images, layers.
  Result<SweepSpec> spec = LoadSweepFile(file, overrides);
  if (!spec.ok()) return ReportError("slurm", spec.status());
  ExpandContext context;
  context.shared_dir = ResolveSharedDir(flags.shared_dir);
  context.layer_checker = BackboneLayerChecker();
  Result<std::vector<JobSpec>> jobs = ExpandSweep(*spec, context);
  if (!jobs.ok()) return ReportError("slurm", jobs.status());
  Status complete = CompleteJob(flags, file, overrides, *spec, context.shared_dir, job);
  if (!complete.ok()) return ReportError("slurm", complete);
  const std::string script = SlurmBatchScript(job);
  if (flags.dry_run) {
    std::cout << script;
    return kExitOk;
  }
  const std::string script_path = flags.script_path.empty() ? job.job_name + ".sbatch" : flags.script_path;
  Status written = WriteScript(script, script_path, job);
  if (!written.ok()) return ReportError("slurm", written);
  Result<std::string> job_id = Submit(script_path);
  if (!job_id.ok()) return ReportError("slurm", job_id.status());
  PrintSubmitted(*job_id, jobs->size(), spec->name, script_path, job);
  return kExitOk;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("slurm", "write a Slurm batch script for a sweep and submit it (preemptible, requeues itself)",
                   stylesweep::RunSlurmCommand);
