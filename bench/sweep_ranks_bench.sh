#!/usr/bin/env bash
# Each rank's wall time and peak RSS in `mpiexec -n RANKS stylesweep sweep`,
# for two builds side by side (A/B, interleaved: A, B, B, A, ...), so that
# the load of a shared machine falls on both alike. Per rank the process
# runs under /usr/bin/time (%e s, %M KiB: the whole process, including the
# engine the front may replace itself with).
#
#   bench/sweep_ranks_bench.sh BIN_A BIN_B [ROUNDS [RANKS [SWEEP [OVERRIDES...]]]]
#
# BIN_A, BIN_B: folders holding stylesweep and stylesweep-engine. Default:
# 2 rounds, 3 ranks, experiments/sweeps/quickstart.yaml. Each round runs
# every build twice into a fresh store: "fresh" runs every job, "again" finds
# every job done, which leaves start-up, the store's reads and the report.
# Prints one line per build, round, pass and rank:
#   build pass rank wall_s peak_rss_KiB
set -euo pipefail
bin_a=$(realpath "${1:?usage: $0 BIN_A BIN_B [ROUNDS [RANKS [SWEEP [OVERRIDES...]]]]}")
bin_b=$(realpath "${2:?usage: $0 BIN_A BIN_B [ROUNDS [RANKS [SWEEP [OVERRIDES...]]]]}")
rounds=${3:-2}
ranks=${4:-3}
sweep=$(realpath "${5:-$(dirname "$0")/../experiments/sweeps/quickstart.yaml}")
shift $(($# < 5 ? $# : 5))
work=$(mktemp -d /tmp/sweep_ranks_bench_XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export STYLESWEEP_HASH_CACHE=$work/file-hashes.tsv
cat >"$work/rank.sh" <<'WRAP'
#!/usr/bin/env bash
exec /usr/bin/time -o "$RANK_TIMES/rank${OMPI_COMM_WORLD_RANK}.txt" -f "%e %M" "$@"
WRAP
chmod +x "$work/rank.sh"

# run LABEL BIN PASS [OVERRIDES...]: one mpiexec of the sweep; prints a line per rank.
run() {
  local label=$1 bin=$2 pass=$3 times=$work/times-$1-$3
  shift 3
  rm -rf "$times" && mkdir -p "$times"
  RANK_TIMES=$times mpiexec -n "$ranks" --oversubscribe -x RANK_TIMES "$work/rank.sh" "$bin/stylesweep" sweep \
    "$sweep" "$@" --store "$work/store-$label" --progress none >"$work/log-$label-$pass.txt" 2>&1 ||
    { echo "$label $pass: the sweep failed:" >&2; tail -20 "$work/log-$label-$pass.txt" >&2; exit 1; }
  for ((r = 0; r < ranks; r++)); do echo "$label $pass $r $(cat "$times/rank$r.txt")"; done
}

echo "# $(uptime)"
for ((round = 0; round < rounds; round++)); do
  order=(A B)
  ((round % 2 == 1)) && order=(B A)
  for label in "${order[@]}"; do
    bin=$bin_a
    [[ $label == B ]] && bin=$bin_b
    rm -rf "$work/store-$label"
    run "$label" "$bin" fresh "${@}"
    run "$label" "$bin" again "${@}"
  done
done
echo "# $(uptime)"
