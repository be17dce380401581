#!/usr/bin/env bash
# Slurm across two nodes: the namespace nodes of netns_nodes.sh with one
# slurmd each (NodeName nodeA, nodeB; netns_slurm.sh). One PART per run:
#   preempt  a 12-job sweep submitted with `stylesweep slurm --nodes 2
#            --tasks-per-node 1 --launcher mpiexec` (3 tasks: the coordinator
#            and a worker on nodeA, a worker on nodeB, as docs/CLUSTER.md
#            says), USR1 to the batch script mid-sweep: the job saves its
#            store (kept on nodeA, the first node), requeues, resumes and
#            finishes every job exactly once, with runs recorded on both
#            nodes. Then a second sweep loses nodeB's link for good: status
#            69, store saved, requeued.
#   srun     the default launcher (auto: srun --mpi=pmix) across both nodes,
#            2 workers per node and 2 GPUs per node faked with
#            CUDA_VISIBLE_DEVICES=0,1 (there is no GPU here; the jobs run on
#            the CPU): tasks placed 3,2, every job FINISHED once on both
#            nodes, and each worker's GPU, as the coordinator logs it, the
#            one docs/CLUSTER.md's local-rank rule gives.
#
#   tests/cluster/slurm_nodes_test.sh STYLESWEEP_BINARY SOURCE_DIR PART
#
# Exit 0 passed, 1 failed (with the logs), 77 skipped (not root, no
# iproute2/unshare, no Slurm). KEEP_WORK=1 keeps the work dir.
set -uo pipefail

binary=$(realpath "${1:?usage: $0 STYLESWEEP_BINARY SOURCE_DIR PART}")
source_dir=$(realpath "${2:?usage: $0 STYLESWEEP_BINARY SOURCE_DIR PART}")
part=${3:?usage: $0 STYLESWEEP_BINARY SOURCE_DIR PART}
case $part in preempt | srun) ;; *) echo "unknown part '$part'" >&2; exit 2 ;; esac
sweep=$source_dir/tests/cluster/tiny_sweep.yaml
expected_jobs=12

skip() { echo "SKIPPED: $*"; exit 77; }
log() { echo "[$(date +%T)] $*"; }
fail() {
  echo "FAILED: $*" >&2
  for f in "$work"/logs/*.out "$work"/cluster/slurmctld.log "$work"/cluster/slurmd-*.log; do
    [[ -f $f ]] && { echo "---- $f" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

source "$source_dir/tests/cluster/netns_nodes.sh"
source "$source_dir/tests/cluster/netns_slurm.sh"
nodes_check || skip "$nodes_missing"
[[ -x /usr/sbin/slurmctld && -x /usr/sbin/slurmd && -x /usr/sbin/munged ]] && command -v sbatch >/dev/null ||
  skip "Slurm is not installed (scripts/setup.sh installs slurm-wlm and munge)"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (scripts/setup.sh installs it)"

nodes_work_dir stylesweep_slurm_nodes
nodes_up "$work" 2 "$(dirname "$binary")" "$source_dir" || fail "could not make the nodes"
# Root, the namespaces and Slurm are all here: a cluster that does not start
# is a failure (its daemons' logs are printed above), not a skip.
slurm_nodes_up "$work/cluster" || fail "the two-node Slurm cluster did not start (daemon logs above)"
log "cluster up: $(on_node nodeA sinfo --noheader --format='%N %t' | tr '\n' ' ')"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
export STYLESWEEP_HASH_CACHE=$work/file-hashes.tsv  # not ~/.cache
export STYLESWEEP_LOCAL_DIR=$work/local
mkdir -p "$work/logs" "$work/local"
cd "$work" || exit 1

job_field() {  # job_field JOB FIELD: a field of `scontrol show job`
  on_node nodeA scontrol show job "$1" --oneliner 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
count_status() {  # count_status STORE STATUS
  sqlite3 -readonly "$1/store.db" "SELECT count(*) FROM runs WHERE status = '$2'" 2>/dev/null || echo 0
}

# wait_job JOB SECONDS: waits until JOB has left the queue's running states; its state in $state.
wait_job() {
  local until=$((SECONDS + $2))
  while ((SECONDS < until)); do
    state=$(job_field "$1" JobState)
    [[ $state == @(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) ]] && return 0
    sleep 0.1
  done
}

# ---- srun: the default launcher across the nodes, GPU binding per node ----
run_srun() {
  local out job logfile store=$work/runs-srun
  # No GPU here: each rank counts the 2 GPUs of its node from
  # CUDA_VISIBLE_DEVICES (sbatch passes the submit environment on), and the
  # sweep's jobs stay on the CPU (device: cpu), so nothing runs on them.
  # 5 tasks on nodes of `nproc` CPUs each: --overcommit lets them share.
  out=$(CUDA_VISIBLE_DEVICES=0,1 on_node nodeA "$binary" slurm "$sweep" alpha_beta=1e-4,1e-3,1e-2,1e-1,1,10 \
        --nodes 2 --gpus-per-node 0 --tasks-per-node 2 --time 00:10:00 --log-dir "$work/logs" --store "$store" \
        --sbatch=--overcommit 2>&1) ||
    fail "stylesweep slurm failed: $out"
  job=$(sed -n 's/^submitted job \([0-9]*\):.*/\1/p' <<<"$out")
  [[ -n $job ]] || fail "no job id from stylesweep slurm: $out"
  log "submitted job $job (launcher auto, 2 workers and 2 faked GPUs per node)"
  wait_job "$job" 240
  logfile=$work/logs/stylesweep-cluster-tiny-$job.out
  [[ $state == COMPLETED ]] || fail "job $job is ${state:-gone} ($(job_field "$job" Reason)), not COMPLETED: $(on_node nodeA scontrol show job "$job")"
  grep -q "launcher srun-pmix" "$logfile" || fail "launcher auto did not pick srun-pmix"
  grep -q "tasks per node: 3,2" "$logfile" || fail "tasks not placed 3 on the first node, 2 on the second"
  grep -q "sweep exited with status 0" "$logfile" || fail "the sweep did not end with status 0"
  [[ $(count_status "$store" FINISHED) -eq $expected_jobs ]] ||
    fail "$(count_status "$store" FINISHED) of $expected_jobs FINISHED"
  [[ $(sqlite3 -readonly "$store/store.db" "SELECT count(*) FROM runs WHERE attempts != 1") -eq 0 ]] ||
    fail "a job ran more than once"
  local hosts; hosts=$(sqlite3 -readonly "$store/store.db" "SELECT DISTINCT host FROM runs ORDER BY host" | tr '\n' ' ')
  [[ $hosts == "nodeA nodeB " ]] || fail "runs recorded on '$hosts', not on nodeA and nodeB"
  # The local-rank rule: cuda:<local rank mod 2>. Rank 0 (local rank 0 on
  # nodeA) coordinates; its node's workers are local ranks 1 and 2.
  local expected
  for expected in "rank 1 on host nodeA, local rank 1, device cuda runs on cuda:1" \
                  "rank 2 on host nodeA, local rank 2, device cuda runs on cuda:0" \
                  "rank 3 on host nodeB, local rank 0, device cuda runs on cuda:0" \
                  "rank 4 on host nodeB, local rank 1, device cuda runs on cuda:1"; do
    grep -q "\] worker [0-9]*: $expected\$" "$logfile" || fail "no worker line '$expected' in the log"
  done
  log "job $job: srun-pmix, tasks 3,2, every job once on $hosts; $(grep -c '\] worker [0-9]*: rank' "$logfile") workers bound by local rank"
}
if [[ $part == srun ]]; then
  run_srun
  echo "PASSED: srun"
  exit 0
fi

out=$(on_node nodeA "$binary" slurm "$sweep" alpha_beta=1e-4,1e-3,1e-2,1e-1,1,10 --nodes 2 --gpus-per-node 0 \
      --tasks-per-node 1 --launcher mpiexec --time 00:10:00 --log-dir "$work/logs" --store "$work/runs" 2>&1) ||
  fail "stylesweep slurm failed: $out"
job=$(sed -n 's/^submitted job \([0-9]*\):.*/\1/p' <<<"$out")
[[ -n $job ]] || fail "no job id from stylesweep slurm: $out"
log "submitted job $job"

local_store=$work/local/stylesweep-$job/store
for ((i = 0; i < 1200; i++)); do
  (($(count_status "$local_store" FINISHED) >= 2)) && break
  [[ $(job_field "$job" JobState) == @(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|COMPLETED) ]] && fail "job $job ended early"
  sleep 0.1
done
finished=$(count_status "$local_store" FINISHED)
((finished >= 2 && finished < expected_jobs)) || fail "$finished runs finished when USR1 was to be sent"
log "job $job mid-sweep on $(job_field "$job" NodeList): $finished finished; USR1 to its batch script"
on_node nodeA scancel --signal=USR1 --batch "$job" || fail "scancel --signal=USR1 failed"

state=""
for ((i = 0; i < 1800; i++)); do
  state=$(job_field "$job" JobState)
  [[ $state == COMPLETED && $(job_field "$job" Restarts) -ge 1 ]] && break
  [[ $state == FAILED || $state == CANCELLED || $state == TIMEOUT || $state == NODE_FAIL ]] && break
  sleep 0.1
done
[[ $state == COMPLETED ]] || fail "job $job is ${state:-gone}, not COMPLETED, 180 s after USR1"
restarts=$(job_field "$job" Restarts)
((restarts >= 1)) || fail "job $job did not restart"

logfile=$(ls "$work"/logs/*.out | head -n 1)
grep -q "tasks per node: 2,1" "$logfile" || fail "tasks not placed 2 on the first node, 1 on the second"
grep -q "start 1 on nodeA" "$logfile" || fail "the batch script's first start was not on nodeA"
grep -q "requeueing job $job" "$logfile" || fail "no requeue in the log"
grep -q "resuming from $work/runs" "$logfile" || fail "the second start did not resume from the saved store"
store=$work/runs
[[ $(count_status "$store" FINISHED) -eq $expected_jobs ]] || fail "$(count_status "$store" FINISHED) of $expected_jobs FINISHED"
[[ $(sqlite3 -readonly "$store/store.db" "SELECT count(DISTINCT config_hash) FROM runs") -eq $expected_jobs ]] ||
  fail "a job is in the store twice"
hosts=$(sqlite3 -readonly "$store/store.db" "SELECT DISTINCT host FROM runs ORDER BY host" | tr '\n' ' ')
[[ $hosts == "nodeA nodeB " ]] || fail "runs recorded on '$hosts', not on nodeA and nodeB"
log "job $job: $restarts restart(s), every job FINISHED once on $hosts"

# ---- 2. nodeB's link down for good under Slurm ----
# The sweep loses nodeB's worker after --worker-timeout, finishes on nodeA
# and writes status 69; the batch script ends a launcher still waiting for
# nodeB (STYLESWEEP_LAUNCHER_GRACE=5 here), saves the store and requeues.
out=$(on_node nodeA "$binary" slurm "$sweep" alpha_beta=1e-4,1e-3,1e-2,1e-1,1,10 --nodes 2 --gpus-per-node 0 \
      --tasks-per-node 1 --launcher mpiexec --worker-timeout 8s --time 00:10:00 --log-dir "$work/logs" \
      --store "$work/runs-lost" --sbatch=--export=ALL,STYLESWEEP_LAUNCHER_GRACE=5 2>&1) ||
  fail "stylesweep slurm failed: $out"
job=$(sed -n 's/^submitted job \([0-9]*\):.*/\1/p' <<<"$out")
[[ -n $job ]] || fail "no job id from stylesweep slurm: $out"
local_store=$work/local/stylesweep-$job/store
for ((i = 0; i < 1200; i++)); do
  (($(count_status "$local_store" FINISHED) >= 2)) &&
    (($(sqlite3 -readonly "$local_store/store.db" "SELECT count(*) FROM runs WHERE status = 'RUNNING' AND host = 'nodeB'" 2>/dev/null || echo 0) > 0)) && break
  sleep 0.1
done
log "job $job: nodeB's link down for good with $(count_status "$local_store" FINISHED) finished"
node_link nodeB down
logfile=$work/logs/stylesweep-cluster-tiny-$job.out
for ((i = 0; i < 1800; i++)); do
  grep -q "requeueing job $job\|requeue refused" "$logfile" 2>/dev/null && break
  sleep 0.1
done
grep -q "sweep exited with status 69" "$logfile" || fail "the sweep did not end with status 69"
grep -q "requeueing job $job" "$logfile" || fail "job $job was not requeued after losing nodeB"
grep -q "store saved to $work/runs-lost" "$logfile" || fail "the store was not saved"
grep -q "lost worker .* on host nodeB" "$logfile" || fail "no 'lost worker ... nodeB' line in the log"
[[ $(count_status "$work/runs-lost" FINISHED) -eq $expected_jobs ]] ||
  fail "$(count_status "$work/runs-lost" FINISHED) of $expected_jobs FINISHED in the saved store"
ended=$(grep -c "the launcher still waits" "$logfile")
log "job $job: status 69, store saved with every job FINISHED, requeued (launcher ended by the script: $ended)"
echo "PASSED: preempt"
