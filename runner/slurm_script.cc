#include "runner/slurm_script.h"

#include <cctype>
#include <sstream>

#include "common/duration.h"
#include "common/text.h"
#include "scheduler/worker_timeout.h"

namespace stylesweep {

namespace {

bool IsAbsolute(const std::string& path) { return !path.empty() && path[0] == '/'; }

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.push_back("");
  return parts;
}

// The part of the script that picks the MPI launcher at run time.
std::string LauncherBlock(const std::string& launcher) {
  std::string block = "launcher=" + launcher + "\n";
  block += R"sh(if [[ $launcher == auto ]]; then
  # The site's MPI plugins; PMIx first (Open MPI 4 and 5 speak it), then PMI2.
  mpi_plugins=$(srun --mpi=list 2>&1)
  if grep -qw pmix <<<"$mpi_plugins"; then launcher=srun-pmix
  elif grep -qw pmi2 <<<"$mpi_plugins"; then launcher=srun-pmi2
  else launcher=mpiexec
  fi
fi
case $launcher in
  srun-pmix) launch=(srun --mpi=pmix --kill-on-bad-exit=0) ;;
  srun-pmi2) launch=(srun --mpi=pmi2 --kill-on-bad-exit=0) ;;
  # Open MPI's mpiexec reads the allocation from Slurm and starts its daemons with srun.
  mpiexec) launch=(mpiexec -n "$SLURM_NTASKS") ;;
esac
)sh";
  return block;
}

// The comment that heads the script, the #SBATCH lines and the shell's options.
void WriteSbatchHeader(const SlurmJobOptions& options, std::ostream& out) {
  const bool array = options.array_size >= 2;
  out << "#!/bin/bash\n"
      << "# Written by `stylesweep slurm`: runs sweep " << options.sweep_file << "\n"
      << "# with one MPI rank per GPU plus the coordinator (rank 0). On USR1 (sent\n"
      << "# " << options.signal_seconds << " s before the time limit, or on preemption) it stops cleanly,\n"
      << "# saves the store, requeues itself and resumes where it stopped. While it\n"
      << "# runs, rank 0 snapshots the store into the submit folder every " << options.snapshot_every << ",\n"
      << "# so a node that dies loses little; a new start resumes from the newest.\n"
      << "# See docs/CLUSTER.md.\n";
  out << "#SBATCH --job-name=" << options.job_name << "\n";
  out << "#SBATCH --nodes=" << options.nodes << "\n";
  out << "#SBATCH --ntasks=" << SlurmTaskCount(options) << "\n";
  if (options.gpus_per_node > 0) out << "#SBATCH --gpus-per-node=" << options.gpus_per_node << "\n";
  if (options.cpus_per_task > 0) out << "#SBATCH --cpus-per-task=" << options.cpus_per_task << "\n";
  if (!options.time_limit.empty()) out << "#SBATCH --time=" << options.time_limit << "\n";
  if (!options.partition.empty()) out << "#SBATCH --partition=" << options.partition << "\n";
  if (!options.account.empty()) out << "#SBATCH --account=" << options.account << "\n";
  if (array) out << "#SBATCH --array=0-" << options.array_size - 1 << "\n";
  out << "#SBATCH --chdir=" << options.work_dir << "\n";
  out << "#SBATCH --output=" << options.log_dir << (array ? "/%x-%A_%a.out" : "/%x-%j.out") << "\n";
  out << "#SBATCH --open-mode=append\n";
  out << "#SBATCH --signal=B:USR1@" << options.signal_seconds << "\n";
  out << "#SBATCH --requeue\n";
  for (const std::string& extra : options.extra_sbatch) out << "#SBATCH " << extra << "\n";
  out << "set -uo pipefail\n\n";

}

// The binary, the sweep's arguments, the job's tag and the submit folder's
// store (an array task's own share of it).
void WriteSweepArguments(const SlurmJobOptions& options, std::ostream& out) {
  out << "stylesweep=" << ShellQuote(options.stylesweep_path) << "\n";
  out << "sweep_args=(" << ShellQuote(options.sweep_file);
  for (const std::string& override_text : options.overrides) out << " " << ShellQuote(override_text);
  if (!options.shared_dir.empty()) out << " --shared-dir " << ShellQuote(options.shared_dir);
  if (options.threads > 0) out << " --threads " << options.threads;
  if (!options.worker_timeout.empty()) out << " --worker-timeout " << ShellQuote(options.worker_timeout);
  out << " --progress plain --snapshot-every " << ShellQuote(options.snapshot_every) << ")\n";
  if (options.array_size >= 2) {
    out << "# Array task i of n runs share i/n of the sweep into its own store; join the\n"
        << "# stores afterwards with `stylesweep merge " << options.store_dir << "-share-* -o " << options.store_dir
        << "`.\n"
        << "job_tag=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\n"
        << "submit_store=" << ShellQuote(options.store_dir) << "-share-${SLURM_ARRAY_TASK_ID}\n"
        << "sweep_args+=(--share \"${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT:-" << options.array_size
        << "}\")\n";
  } else {
    out << "job_tag=${SLURM_JOB_ID}\n"
        << "submit_store=" << ShellQuote(options.store_dir) << "\n";
  }
}

// The local store on the first node, restored from the newest whole store in
// the submit folder.
void WriteLocalStore(std::ostream& out) {
out << R"sh(# The store on the local disk of this (the first) node, where rank 0 runs:
# SQLite's WAL needs a local filesystem, and only rank 0 opens the store.
local_root=${STYLESWEEP_LOCAL_DIR:-${TMPDIR:-/tmp}}/stylesweep-${job_tag}
local_store=$local_root/store
echo "stylesweep: job $job_tag start $((${SLURM_RESTART_COUNT:-0} + 1)) on $(hostname) at $(date -Is)"
rm -rf "$local_root" && mkdir -p "$local_store" || { echo "stylesweep: cannot create $local_store" >&2; exit 1; }
# Resume from the newest whole store in the submit folder: the last snapshot
# or the last save, whatever became of the job that wrote it. A save cut off
# between its two renames leaves the previous store as <store>.old-<job>;
# a <store>.partial-<job> copy is never whole and is not used.
restore_from=""
for candidate in "$submit_store" "$submit_store".old-*; do
  [[ -f $candidate/store.db ]] || continue
  if [[ -z $restore_from || $candidate/store.db -nt $restore_from/store.db ]]; then restore_from=$candidate; fi
done
if [[ -n $restore_from ]]; then
  echo "stylesweep: resuming from $restore_from"
  cp -a "$restore_from/." "$local_store/" || { echo "stylesweep: cannot copy $restore_from to $local_store" >&2; exit 1; }
  rm -f "$local_store"/.snapshot-store.db.*  # an interrupted snapshot's temporary file
fi

)sh";
}

// The sweep under the launcher in the background, the stop traps, and the
// wait that ends a launcher outliving the sweep's written status; $status.
void WriteRunAndWait(std::ostream& out) {
  out << R"sh(echo "stylesweep: launcher $launcher, $SLURM_NTASKS ranks on $SLURM_JOB_NUM_NODES node(s) (tasks per node: ${SLURM_TASKS_PER_NODE:-?})"

stop_signal=""
on_stop() {
  # Forwards the stop as USR1: srun and mpiexec pass USR1 on to every rank.
  stop_signal=$1
  echo "stylesweep: $1 received at $(date -Is): stopping the sweep"
  kill -USR1 "$sweep_pid" 2>/dev/null
}
trap 'on_stop USR1' USR1
trap 'on_stop TERM' TERM

# Rank 0 snapshots the store into the submit folder while the sweep runs:
# what survives a node that dies with no exit path run.
exit_file=$local_root/exit-status
"${launch[@]}" "$stylesweep" sweep "${sweep_args[@]}" --store "$local_store" --snapshot "$submit_store" \
  --exit-file "$exit_file" &
sweep_pid=$!
# Wait until the sweep has ended (`wait` also returns early when a trapped
# signal arrives). Once rank 0 has written its exit status the store is
# closed; a launcher still running $launcher_grace s later is waiting for a
# node that is gone, and is ended: the status written is the sweep's.
launcher_grace=${STYLESWEEP_LAUNCHER_GRACE:-)sh" << kSlurmLauncherGraceSeconds << R"sh(}
exit_seen=""
while kill -0 "$sweep_pid" 2>/dev/null; do
  if [[ -s $exit_file ]]; then
    exit_seen=${exit_seen:-$SECONDS}
    if ((SECONDS - exit_seen >= launcher_grace)); then
      echo "stylesweep: the sweep ended with status $(<"$exit_file") but the launcher still waits (a lost node?); ending it"
      kill -TERM "$sweep_pid" 2>/dev/null; sleep 5; kill -KILL "$sweep_pid" 2>/dev/null
      break
    fi
  fi
  sleep 1 & wait $! 2>/dev/null
done
wait "$sweep_pid"
status=$?
if [[ -s $exit_file ]]; then status=$(<"$exit_file"); fi
echo "stylesweep: sweep exited with status $status at $(date -Is)"

)sh";
}

// The copy of the local store back to the submit folder, whole or not at all.
void WriteSaveStore(std::ostream& out) {
  out << R"sh(# Copy the store back: a complete copy under a temporary name, then renames,
# so the submit folder always holds one whole store.
partial=$submit_store.partial-$job_tag
rm -rf "$partial"
if cp -a "$local_store" "$partial"; then
  if [[ -e $submit_store ]]; then mv "$submit_store" "$submit_store.old-$job_tag"; fi
  mv "$partial" "$submit_store" && rm -rf "$submit_store.old-$job_tag" "$local_root"
  echo "stylesweep: store saved to $submit_store"
else
  echo "stylesweep: could not copy the store to $submit_store; it is still at $local_store on $(hostname)" >&2
  rm -rf "$partial"
  exit 1
fi

)sh";
}

// Requeue after a stop for preemption (75) or lost workers (69), not after TERM.
void WriteRequeue(std::ostream& out) {
  out << "# " << kSlurmRequeueExitCode
      << ": the sweep stopped for preemption or the time limit (USR1); " << kSlurmLostWorkersExitCode
      << ": it lost\n"
         "# workers (a node stopped answering). Requeue, and the next start resumes from\n"
         "# the saved store. After TERM (scancel, or Slurm requeueing or preempting the\n"
         "# job itself) Slurm decides what happens next.\n"
      << "if [[ ($status -eq " << kSlurmRequeueExitCode << " || $status -eq " << kSlurmLostWorkersExitCode
      << ") && $stop_signal != TERM ]]; then\n";
  out << R"sh(  echo "stylesweep: requeueing job $job_tag"
  if ! scontrol requeue "$job_tag"; then
    echo "stylesweep: requeue refused; submit this script again to resume" >&2
  fi
fi
exit "$status"
)sh";
}

}  // namespace

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

Result<long> ParseSlurmTime(const std::string& text) {
  const auto invalid = [&] {
    return Status::InvalidArgument("--time '" + text + "': give [D-]HH:MM:SS, MM:SS or minutes, e.g. --time 04:00:00");
  };
  std::string clock = text;
  long days = 0;
  if (const std::size_t dash = text.find('-'); dash != std::string::npos) {
    days = ParseDigits(text.substr(0, dash), 9);
    clock = text.substr(dash + 1);
    if (days < 0) return invalid();
  }
  std::vector<std::string> parts = Split(clock, ':');
  std::vector<long> values;
  for (const std::string& part : parts) {
    values.push_back(ParseDigits(part, 9));
    if (values.back() < 0) return invalid();
  }
  long seconds = 0;
  if (values.size() == 3) {
    if (values[1] >= 60 || values[2] >= 60) return invalid();
    seconds = values[0] * 3600 + values[1] * 60 + values[2];
  } else if (values.size() == 2 && days == 0) {
    if (values[1] >= 60) return invalid();
    seconds = values[0] * 60 + values[1];
  } else if (values.size() == 1 && days == 0) {
    seconds = values[0] * 60;
  } else {
    return invalid();
  }
  return days * 86400 + seconds;
}

int SlurmWorkersPerNode(const SlurmJobOptions& options) {
  if (options.tasks_per_node > 0) return options.tasks_per_node;
  return options.gpus_per_node > 0 ? options.gpus_per_node : 1;
}

int SlurmTaskCount(const SlurmJobOptions& options) { return options.nodes * SlurmWorkersPerNode(options) + 1; }

Status ValidateSlurmJobOptions(const SlurmJobOptions& options) {
  if (options.job_name.empty()) return Status::InvalidArgument("the job needs a name (--job-name)");
  for (char c : options.job_name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return Status::InvalidArgument("--job-name '" + options.job_name + "': use letters, digits, '-', '_' and '.'");
    }
  }
  const std::pair<const char*, const std::string*> paths[] = {{"stylesweep binary", &options.stylesweep_path},
                                                              {"sweep file", &options.sweep_file},
                                                              {"--store", &options.store_dir},
                                                              {"working folder", &options.work_dir},
                                                              {"--log-dir", &options.log_dir}};
  for (const auto& [what, path] : paths) {
    if (!IsAbsolute(*path)) return Status::InvalidArgument(std::string(what) + " '" + *path + "' must be an absolute path");
  }
  if (!options.shared_dir.empty() && !IsAbsolute(options.shared_dir)) {
    return Status::InvalidArgument("--shared-dir '" + options.shared_dir + "' must be an absolute path");
  }
  if (options.nodes < 1 || options.nodes > 100000) return Status::InvalidArgument("--nodes must be between 1 and 100000");
  if (options.gpus_per_node < 0 || options.gpus_per_node > 64) {
    return Status::InvalidArgument("--gpus-per-node must be between 0 (CPU only) and 64");
  }
  if (options.tasks_per_node < 0 || options.tasks_per_node > 1024) {
    return Status::InvalidArgument("--tasks-per-node must be between 0 (one per GPU) and 1024");
  }
  if (options.cpus_per_task < 0) return Status::InvalidArgument("--cpus-per-task must be >= 0");
  if (options.threads < 0) return Status::InvalidArgument("--threads must be >= 0");
  if (!options.worker_timeout.empty()) SS_RETURN_IF_ERROR(ParseWorkerTimeout(options.worker_timeout).status());
  if (options.array_size < 0 || options.array_size == 1 || options.array_size > 100000) {
    return Status::InvalidArgument("--array must be 0 (one allocation) or between 2 and 100000");
  }
  if (options.launcher != "auto" && options.launcher != "srun-pmix" && options.launcher != "srun-pmi2" &&
      options.launcher != "mpiexec") {
    return Status::InvalidArgument("--launcher '" + options.launcher + "': use auto, srun-pmix, srun-pmi2 or mpiexec");
  }
  if (options.signal_seconds < 10 || options.signal_seconds > 65535) {
    return Status::InvalidArgument("the stop signal must come 10 to 65535 s before the time limit");
  }
  if (!options.time_limit.empty()) {
    SS_ASSIGN_OR_RETURN(long seconds, ParseSlurmTime(options.time_limit));
    if (seconds < options.signal_seconds + 60) {
      return Status::InvalidArgument("--time " + options.time_limit + " leaves no time to work: the stop signal comes " +
                                     std::to_string(options.signal_seconds) +
                                     " s before the limit; ask for at least " +
                                     std::to_string(options.signal_seconds + 60) + " s");
    }
  }
  SS_RETURN_IF_ERROR(ParseDuration(options.snapshot_every, "--snapshot-every").status());
  for (const std::string& extra : options.extra_sbatch) {
    if (extra.size() < 2 || extra[0] != '-' || extra.find('\n') != std::string::npos) {
      return Status::InvalidArgument("--sbatch '" + extra + "': give one sbatch option, e.g. --sbatch=--mem=32G");
    }
  }
  return Status::Ok();
}

std::string SlurmBatchScript(const SlurmJobOptions& options) {
  std::ostringstream out;
  WriteSbatchHeader(options, out);
  WriteSweepArguments(options, out);
  WriteLocalStore(out);
  out << LauncherBlock(options.launcher);
  WriteRunAndWait(out);
  WriteSaveStore(out);
  WriteRequeue(out);
  return out.str();
}

}  // namespace stylesweep
