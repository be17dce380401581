// The Slurm batch script `stylesweep slurm` writes and submits. Torch-free
// and MPI-free: plain text from plain options, so that it can be tested
// without a cluster (and shown with --dry-run).
//
// What the script does, in order (docs/CLUSTER.md has the full story):
//  1. #SBATCH lines: nodes, one task per GPU plus one task for the
//     coordinator (rank 0), GPUs per node, time, partition, account, logs
//     named %x-%j.out (arrays: %x-%A_%a.out, appended across requeues),
//     `--signal=B:USR1@<s>` and `--requeue`.
//  2. The store lives on the local disk of the first node, where rank 0 (the
//     coordinator, the store's only writer) runs: it is copied there from the
//     newest whole store in the submit folder, if any (a requeued or
//     resubmitted job resumes from it, whatever became of the last one).
//     While the sweep runs, rank 0 writes a snapshot of it into the submit
//     folder every `snapshot_every` (`stylesweep sweep --snapshot`), so a
//     node that dies loses at most one interval plus one job of work.
//  3. The sweep starts in the background under `srun --mpi=pmix|pmi2`, or
//     under `mpiexec` inside the allocation when Slurm offers neither (or
//     --launcher says so). An array task runs `--share ID/COUNT`.
//  4. USR1 (time limit or preemption notice) and TERM are trapped and
//     forwarded as USR1 to the launcher, which passes it to every rank: the
//     sweep records in-flight runs KILLED and exits 75.
//  5. The store is copied back to the submit folder (atomically: a
//     temporary folder, then renames), and on exit 75 the job requeues
//     itself with `scontrol requeue`; the next start resumes the sweep.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace stylesweep {

struct SlurmJobOptions {
  std::string job_name;             // --job-name (%x in log names); required
  std::string stylesweep_path;      // absolute path of the stylesweep binary, as the nodes see it; required
  std::string sweep_file;           // absolute path of SWEEP.yaml; required
  std::vector<std::string> overrides;  // key=values passed to `stylesweep sweep`
  std::string shared_dir;           // --shared-dir for the sweep; empty: the sweep's default
  std::string store_dir;            // absolute; the store in the submit folder (arrays: "<store>-share-<i>")
  std::string work_dir;             // absolute; the job's working folder (--chdir)
  std::string log_dir;              // absolute; where the .out logs go (must exist before submitting)
  int nodes = 1;                    // --nodes
  int gpus_per_node = 1;            // --gpus-per-node; 0: CPU only
  int tasks_per_node = 0;           // workers per node; 0: gpus_per_node (1 without GPUs)
  int cpus_per_task = 0;            // --cpus-per-task; 0: the site's default
  int threads = 0;                  // --threads for each worker; 0: LibTorch's default
  std::string worker_timeout;       // --worker-timeout for the sweep (checked by ParseWorkerTimeout); empty: its default
  std::string time_limit;           // --time, [D-]HH:MM:SS; empty: the partition's default
  std::string partition;            // --partition; empty: the default partition
  std::string account;              // --account; empty: the user's default
  int array_size = 0;               // >= 2: an array of that many allocations, one share of the sweep each
  std::string launcher = "auto";    // auto (srun pmix, then pmi2, then mpiexec), srun-pmix, srun-pmi2, mpiexec
  int signal_seconds = 120;         // s before the time limit that USR1 arrives
  std::string snapshot_every = "5m";  // --snapshot-every: time between snapshots of the store into store_dir
  std::vector<std::string> extra_sbatch;  // further sbatch options, one #SBATCH line each ("--mem=32G")
};

// kInvalidArgument naming the option and what is wrong: counts out of range,
// a time that is not [D-]HH:MM:SS or leaves less than signal_seconds + 60 s,
// an unknown launcher, relative paths, an extra option not starting with "-",
// a snapshot interval that is not a duration ("5x").
Status ValidateSlurmJobOptions(const SlurmJobOptions& options);

// The batch script for valid `options` (see ValidateSlurmJobOptions).
std::string SlurmBatchScript(const SlurmJobOptions& options);

// Worker ranks per node: tasks_per_node, else gpus_per_node, else 1.
int SlurmWorkersPerNode(const SlurmJobOptions& options);

// Total MPI ranks per allocation: nodes x workers per node + 1 coordinator.
int SlurmTaskCount(const SlurmJobOptions& options);

// `text` quoted for bash: 'text', with embedded quotes escaped.
std::string ShellQuote(const std::string& text);

// Parses [D-]HH:MM:SS (also MM:SS and plain minutes, as sbatch does) into
// seconds; kInvalidArgument otherwise.
Result<long> ParseSlurmTime(const std::string& text);

// The exit code `stylesweep sweep` returns when it stopped for preemption and
// the batch script requeues (kExitPreempted).
inline constexpr int kSlurmRequeueExitCode = 75;
// The sweep lost workers (a node stopped answering): the script requeues so
// that the next start runs what they left.
inline constexpr int kSlurmLostWorkersExitCode = 69;
// Seconds the script lets the launcher run after the sweep wrote its exit
// status (--exit-file) before ending it: mpiexec may wait for a lost node.
// $STYLESWEEP_LAUNCHER_GRACE in the job's environment overrides it.
inline constexpr int kSlurmLauncherGraceSeconds = 30;

}  // namespace stylesweep
