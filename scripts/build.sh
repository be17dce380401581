#!/usr/bin/env bash
# Configures (once) and builds stylesweep into build/ (or $BUILD_DIR).
# Extra arguments go to the CMake configure step, e.g. -DSTYLESWEEP_SANITIZE=address.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [[ ! -f $build_dir/build.ninja || $# -gt 0 ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$build_dir" -j "${BUILD_JOBS:-$(nproc)}"
