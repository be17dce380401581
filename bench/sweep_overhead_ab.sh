#!/bin/bash
# Per-job overhead of a small and a large sweep, interleaved so that both see
# the same machine load: twice, a fresh SMALL sweep for 35 s, then the LARGE
# sweep (its store kept, so it resumes) for 50 s. Each line is
# bench/sweep_start_bench.py's report. Run from the build's source folder.
#
# usage: bench/sweep_overhead_ab.sh STYLESWEEP SMALL.yaml SMALL_STORE LARGE.yaml LARGE_STORE
set -euo pipefail
if [ $# -ne 5 ]; then
  sed -n 2,7p "$0"
  exit 2
fi
binary=$1 small=$2 small_store=$3 large=$4 large_store=$5
here=$(dirname "$0")
for round in 1 2; do
  echo "== round $round small: $(uptime)"
  rm -rf "$small_store"
  python3 "$here/sweep_start_bench.py" "$binary" "$small" "$small_store" 35 --threads 1
  echo "== round $round large: $(uptime)"
  python3 "$here/sweep_start_bench.py" "$binary" "$large" "$large_store" 50 --threads 1
done
echo "== end: $(uptime)"
