#!/usr/bin/env bash
# Preemption and requeue on a real Slurm: starts a one-node cluster
# (scripts/slurm/one_node_cluster.sh), submits a tiny sweep with
# `stylesweep slurm`, and
#   1. sends the batch script USR1 mid-run (what --signal=B:USR1@120 does
#      before the time limit): the job must save, requeue itself, resume and
#      finish every job exactly once;
#   2. runs the sweep as a 2-task array, requeues task 0 with
#      `scontrol requeue` mid-run (what an administrator or a preempting job
#      does), then merges the two share stores: every job exactly once;
#   3. once the snapshot in the submit folder holds finished runs, SIGKILLs
#      the batch script and every rank at once (a node that dies: no handler
#      runs, nothing is copied back): the snapshot opens with its runs and
#      intact artifacts, and a resubmission finishes every job exactly once.
#
#   tests/cluster/slurm_preempt_test.sh STYLESWEEP_BINARY SOURCE_DIR
#
# Exit 0 passed, 1 failed, 77 skipped (not root, or no Slurm). With root and
# the Slurm packages present, a cluster that does not start is a failure,
# reported with the daemons' logs. Needs root, Debian's slurm-wlm and munge.
set -uo pipefail

binary=$(realpath "${1:?usage: $0 STYLESWEEP_BINARY SOURCE_DIR}")
source_dir=$(realpath "${2:?usage: $0 STYLESWEEP_BINARY SOURCE_DIR}")
sweep=$source_dir/tests/cluster/tiny_sweep.yaml
cluster_script=$source_dir/scripts/slurm/one_node_cluster.sh
expected_jobs=4

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*" >&2; dump_logs; exit 1; }
log() { echo "[$(date +%T)] $*"; }

[[ $(id -u) -eq 0 ]] || skip "a one-node Slurm cluster needs root"
[[ -x /usr/sbin/slurmctld && -x /usr/sbin/slurmd && -x /usr/sbin/munged ]] && command -v sbatch >/dev/null ||
  skip "Slurm is not installed (scripts/setup.sh installs slurm-wlm and munge)"

work=$(mktemp -d /tmp/stylesweep_cluster_XXXXXX)
cluster=$work/cluster
# KEEP_WORK=1 keeps the logs, stores and cluster files for a look afterwards.
cleanup() {
  "$cluster_script" stop "$cluster" >/dev/null 2>&1
  if [[ -n ${KEEP_WORK:-} ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap "exit 1" INT TERM
dump_logs() {
  for f in "$work"/logs/*.out "$cluster"/munge/munged.log "$cluster"/slurmctld.log "$cluster"/slurmd.log; do
    [[ -f $f ]] && { echo "---- $f" >&2; tail -n 40 "$f" >&2; }
  done
}

# Ports of our own, so that a cluster left over elsewhere does not answer.
export SLURMCTLD_PORT=$((20000 + RANDOM % 20000))
export SLURMD_PORT=$((SLURMCTLD_PORT + 1))
if ! start_output=$("$cluster_script" start "$cluster" 2>&1); then
  echo "$start_output" >&2
  fail "the one-node Slurm cluster did not start although root and the Slurm packages are here (output above, daemons' logs below)"
fi
eval "$start_output"
log "cluster up: $(sinfo --noheader --format='%n %t %c CPUs')"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
export STYLESWEEP_LOCAL_DIR=$work/local
mkdir -p "$work/logs" "$work/local"
cd "$work" || exit 1

job_field() {  # job_field JOB FIELD: a field of `scontrol show job`
  scontrol show job "$1" --oneliner 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

wait_for_state() {  # wait_for_state JOB STATE SECONDS
  local state=""
  for _ in $(seq $(($3 * 2))); do
    state=$(job_field "$1" JobState)
    [[ $state == "$2" ]] && return 0
    [[ $state == FAILED || $state == CANCELLED || $state == TIMEOUT || $state == NODE_FAIL ]] && break
    sleep 0.5
  done
  fail "job $1 is ${state:-gone}, not $2, after up to $3 s"
}

# "config_hash,status,attempts" lines of a store.
runs_csv() { "$binary" runs --store "$1" --columns config_hash,status,attempts --format csv 2>/dev/null | tail -n +2; }

# How many runs of the store at $1 have status $2. Polled mid-run, so it asks
# sqlite3 (milliseconds) when installed rather than `stylesweep runs`
# (seconds: it loads LibTorch).
count_status() {
  if command -v sqlite3 >/dev/null; then
    sqlite3 -readonly "$1/store.db" "SELECT count(*) FROM runs WHERE status = '$2'" 2>/dev/null || echo 0
  else
    runs_csv "$1" | grep -c ",$2,"
  fi
}

# Waits until the store at $1 exists and has >= 1 FINISHED run and fewer
# than $2 (the preemption must land mid-sweep).
wait_mid_sweep() {
  local finished
  for _ in $(seq 1200); do
    if [[ -f $1/store.db ]]; then
      finished=$(count_status "$1" FINISHED)
      if ((finished >= 1)); then
        ((finished < $2)) || fail "the sweep finished before it could be preempted; make tests/cluster/tiny_sweep.yaml slower"
        return 0
      fi
    fi
    sleep 0.1
  done
  fail "no run finished in $1 within 120 s"
}

# Every job of the sweep FINISHED exactly once, nothing RUNNING.
check_store() {  # check_store STORE
  local csv total distinct finished
  csv=$(runs_csv "$1")
  echo "$csv" | sed 's/^/    /'
  total=$(grep -c . <<<"$csv")
  distinct=$(cut -d, -f1 <<<"$csv" | sort -u | grep -c .)
  finished=$(grep -c ',FINISHED,' <<<"$csv")
  ((total == expected_jobs)) || fail "$1 has $total runs, expected $expected_jobs"
  ((distinct == expected_jobs)) || fail "$1 has a job twice"
  ((finished == expected_jobs)) || fail "$1 has $finished FINISHED runs of $expected_jobs"
  ! grep -q ',RUNNING,' <<<"$csv" || fail "$1 has a RUNNING run"
}

submitted_job=""
submit() {  # submit STORE [flags...]: sets submitted_job
  local out
  out=$("$binary" slurm "$sweep" --gpus-per-node 0 --tasks-per-node 1 --time 00:10:00 --log-dir "$work/logs" \
        --snapshot-every 1s --store "$@" 2>&1) || fail "stylesweep slurm failed: $out"
  submitted_job=$(sed -n 's/^submitted job \([0-9]*\):.*/\1/p' <<<"$out")
  [[ -n $submitted_job ]] || fail "no job id from stylesweep slurm: $out"
}

# ---- 1. USR1 to the batch script (the time-limit / preemption notice) ----
submit "$work/runs"
job=$submitted_job
log "submitted job $job"
wait_mid_sweep "$work/local/stylesweep-$job/store" "$expected_jobs"
log "job $job mid-sweep: $(count_status "$work/local/stylesweep-$job/store" FINISHED) finished; sending USR1 to its batch script"
scancel --signal=USR1 --batch "$job" || fail "scancel --signal=USR1 --batch $job failed"
wait_for_state "$job" COMPLETED 150
restarts=$(job_field "$job" Restarts)
log "job $job completed after $restarts restart(s)"
((restarts >= 1)) || fail "job $job was not requeued (Restarts=$restarts)"
job_log=$work/logs/stylesweep-cluster-tiny-$job.out
grep -q "USR1 received" "$job_log" || fail "the log does not show the USR1"
grep -q "stopped for preemption" "$job_log" || fail "the sweep did not stop for preemption (exit 75)"
grep -q "requeueing job $job" "$job_log" || fail "the batch script did not requeue"
grep -q "resuming from $work/runs" "$job_log" || fail "the requeued job did not resume from the saved store"
check_store "$work/runs"
log "part 1 passed: $(grep -c ',FINISHED,[2-9]' <<<"$(runs_csv "$work/runs")") run(s) needed a second attempt"

# ---- 2. an array of two shares; task 0 requeued by Slurm itself ----
submit "$work/shares" --array 2
array_job=$submitted_job
log "submitted array job $array_job"
# The tasks run one after the other (each needs both CPUs), in either order.
share0_local=$work/local/stylesweep-${array_job}_0/store
for _ in $(seq 1500); do
  [[ -f $share0_local/store.db ]] && (($(count_status "$share0_local" FINISHED) >= 1)) && break
  sleep 0.1
done
[[ -f $share0_local/store.db ]] || fail "array task 0 did not start within 150 s"
log "array task 0: $(count_status "$share0_local" FINISHED) of 2 finished; scontrol requeue ${array_job}_0"
scontrol requeue "${array_job}_0" || fail "scontrol requeue ${array_job}_0 failed"
wait_for_state "${array_job}_0" COMPLETED 150
wait_for_state "${array_job}_1" COMPLETED 150
restarts=$(job_field "${array_job}_0" Restarts)
((restarts >= 1)) || fail "array task 0 was not requeued (Restarts=$restarts)"
"$binary" merge "$work/shares-share-0" "$work/shares-share-1" -o "$work/merged" || fail "stylesweep merge failed"
check_store "$work/merged"
log "part 2 passed"

# ---- 3. the node dies: SIGKILL to the batch script and every rank ----
# Every artifact the store at $1 names exists and matches its sha256.
check_artifacts() {
  local path sha n=0
  while IFS='|' read -r path sha; do
    [[ -f $1/$path ]] || fail "$1 names $path, which is missing"
    [[ $(sha256sum "$1/$path" | cut -d' ' -f1) == "$sha" ]] || fail "$1/$path does not match its sha256"
    n=$((n + 1))
  done < <(sqlite3 -readonly "$1/store.db" "SELECT path, sha256 FROM artifacts")
  echo "$n"
}
command -v sqlite3 >/dev/null || fail "part 3 needs sqlite3 (scripts/setup.sh installs it)"
submit "$work/killed"
job=$submitted_job
log "submitted job $job"
for _ in $(seq 1200); do
  [[ -f $work/killed/store.db ]] && (($(count_status "$work/killed" FINISHED) >= 2)) && break
  sleep 0.1
done
snapshot_finished=$(count_status "$work/killed" FINISHED)
((snapshot_finished >= 2)) || fail "no snapshot with 2 finished runs in $work/killed within 120 s"
# Every process of the job on this node: the batch shell, srun and the ranks.
pids=$(grep -lsaz "^SLURM_JOB_ID=$job\$" /proc/[0-9]*/environ | cut -d/ -f3 | tr '\n' ' ')
[[ -n $pids ]] || fail "no processes of job $job found"
kill -KILL $pids
killed_at=$(date +%s.%N)
log "SIGKILLed job $job (pids $pids) with $snapshot_finished finished in the snapshot"
for _ in $(seq 300); do
  state=$(job_field "$job" JobState)
  [[ $state == RUNNING || $state == COMPLETING ]] || break
  sleep 0.2
done
log "job $job is $state"
job_log=$work/logs/stylesweep-cluster-tiny-$job.out
! grep -q "store saved to" "$job_log" || fail "the killed job copied its store back; it should have had no chance"
taken=$(sqlite3 -readonly "$work/killed/store.db" "SELECT taken_time FROM snapshot_info")
kept=$(count_status "$work/killed" FINISHED)
live_finished=$(count_status "$work/local/stylesweep-$job/store" FINISHED)
artifacts=$(check_artifacts "$work/killed") || exit 1
log "snapshot: $kept finished runs, $artifacts intact artifacts; $(awk -v k="$killed_at" -v t="$taken" 'BEGIN { printf "%.1f", k - t }') s old at the kill; the lost node's store had $live_finished finished"
((kept >= 2)) || fail "the snapshot lost finished runs"
"$binary" runs --store "$work/killed" | grep -q "snapshot taken" || fail "runs on the snapshot does not show its progress"
sqlite3 -readonly "$work/killed/store.db" "SELECT config_hash || ',' || attempts FROM runs WHERE status = 'FINISHED'" \
  | sort > "$work/kept.csv"
submit "$work/killed"
job=$submitted_job
log "resubmitted as job $job"
wait_for_state "$job" COMPLETED 150
grep -q "resuming from $work/killed" "$work/logs/stylesweep-cluster-tiny-$job.out" ||
  fail "the resubmitted job did not resume from the snapshot"
check_store "$work/killed"
# The runs the snapshot held finished were not run again.
while IFS=, read -r hash attempts; do
  runs_csv "$work/killed" | tr -d '\r' | grep -qx "$hash,FINISHED,$attempts" || fail "run $hash was run again after the snapshot"
done < "$work/kept.csv"
check_artifacts "$work/killed" >/dev/null || exit 1
log "part 3 passed"
echo "PASSED"
