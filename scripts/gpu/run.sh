#!/usr/bin/env bash
# Everything issue-sized that needs a GPU, in as few device calls as fit the
# 10-minute limit per call (docs/BENCHMARKS.md has the numbers' meaning):
#
#   scripts/gpu/run.sh build    unpack .gpu/debs under a prefix, configure
#                               build-gpu against the pip wheel's CUDA LibTorch
#                               (../shared/GPU_BUILD.md), build what the checks need
#   scripts/gpu/run.sh check    ctest -L gpu; device ceilings (matmul, copy);
#                               engine_gpu_bench FP32 and TF32+channels-last at
#                               256/512/1024 px against the floor; batch_bench
#                               on CUDA (jobs/h, batched vs one at a time)
#   scripts/gpu/run.sh largest  the largest VGG19-prefix image one GPU runs
#
# Prepare .gpu/ here first (scripts/gpu/prepare.sh) and carry it:
#   run(command="scripts/gpu/run.sh build && scripts/gpu/run.sh check", carry=[".gpu"])
# Logs and JSON go to $OUT (else gpu-out/); a short summary is printed last.
# Environment: TORCH_PREFIX (default: the python3 torch's cmake prefix),
# STYLESWEEP_DEB_PREFIX (default /opt/deb), JOBS (build jobs, default nproc).
set -uo pipefail
cd "$(dirname "$0")/../.."
step=${1:-}
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
prefix=${STYLESWEEP_DEB_PREFIX:-/opt/deb}
summary="$out/summary.txt"

# The unpacked Debian packages (not over /: they would replace the node's
# own libraries). Without .gpu/debs the system's packages are used.
if [[ -d .gpu/debs ]]; then
  if [[ ! -e $prefix/.unpacked ]]; then
    mkdir -p "$prefix"
    for f in .gpu/debs/*.deb; do dpkg -x "$f" "$prefix"; done
    touch "$prefix/.unpacked"
  fi
  export PATH=$prefix/usr/bin:$PATH
  export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib/x86_64-linux-gnu/openmpi/lib:${LD_LIBRARY_PATH:-}
  export OPAL_PREFIX=$prefix/usr  # relocated Open MPI: the prefix, not its lib folder
  mpi_args=(-DMPI_CXX_COMPILER="$prefix/usr/bin/mpicxx.openmpi" -DMPIEXEC_EXECUTABLE="$prefix/usr/bin/mpiexec.openmpi")
  deb_prefix="$prefix/usr"
else
  mpi_args=()
  deb_prefix=""
fi
[[ -d .gpu/assets ]] && export STYLESWEEP_SHARED_DIR=$PWD/.gpu/assets
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

case $step in
build)
  {
    nvidia-smi 2>&1 || echo "no nvidia-smi"
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cxx11 abi", torch.compiled_with_cxx11_abi())'
  } >"$out/machine.txt" 2>&1
  torch_prefix=${TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
  # NCCL: the wheel's nvidia-nccl package (include/ and lib/), unless NCCL_HOME says otherwise.
  nccl_home=${NCCL_HOME:-$(python3 -c 'import nvidia.nccl as m; print(list(m.__path__)[0])' 2>/dev/null || true)}
  [[ -n $nccl_home ]] && export NCCL_HOME=$nccl_home
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="${deb_prefix:+$deb_prefix;}$torch_prefix" ${deb_prefix:+-DOPENSSL_ROOT_DIR=$deb_prefix} \
    "${mpi_args[@]}" >"$out/configure.log" 2>&1
  rc=$?
  grep -E "stylesweep: CUDA" "$out/configure.log" | tee "$summary"
  if [[ $rc -ne 0 ]]; then tail -30 "$out/configure.log"; exit $rc; fi
  cmake --build build-gpu -j "${JOBS:-$(nproc)}" --target stylesweep style_transfer_gpu_test nccl_collectives_gpu_test \
    engine_gpu_bench batch_bench >"$out/build.log" 2>&1
  rc=$?
  if [[ $rc -ne 0 ]]; then grep -E "error|Error" "$out/build.log" | head -30; exit $rc; fi
  echo "build: ok" | tee -a "$summary"
  ;;
check)
  ctest --test-dir build-gpu -L gpu --output-on-failure >"$out/ctest_gpu.log" 2>&1
  echo "ctest -L gpu: exit $? ($(grep -E 'tests passed' "$out/ctest_gpu.log"))" >>"$summary"
  # The two ceilings (METHOD: measure them, do not trust the datasheet).
  python3 - >"$out/ceilings.txt" 2>&1 <<'PY'
import torch
def timed(fn, reps=20):
    for _ in range(3): fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record(); fn(); end.record(); torch.cuda.synchronize(); times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2] / 1e3
n = 8192
a, b = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
for tf32 in (False, True):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    s = timed(lambda: a @ b)
    print(f"matmul {n}^3 {'tf32' if tf32 else 'fp32'}: {2 * n**3 / s / 1e12:.1f} TFLOP/s")
x = torch.randn(256 * 1024 * 1024, device="cuda")
y = torch.empty_like(x)
s = timed(lambda: y.copy_(x))
print(f"device copy 1 GiB: {2 * x.numel() * 4 / s / 1e9:.0f} GB/s (read + write)")
PY
  cat "$out/ceilings.txt" >>"$summary"
  build-gpu/bin/engine_gpu_bench --device cuda --peak-tflops 67 --benchmark_out="$out/engine_fp32.json" \
    >"$out/engine_fp32.txt" 2>&1
  build-gpu/bin/engine_gpu_bench --device cuda --tf32 --channels-last --peak-tflops 495 \
    --benchmark_out="$out/engine_tf32.json" >"$out/engine_tf32.txt" 2>&1
  STYLESWEEP_BENCH_DEVICE=cuda build-gpu/bin/batch_bench --benchmark_out="$out/batch.json" \
    >"$out/batch.txt" 2>&1
  for f in engine_fp32 engine_tf32 batch; do
    echo "== $f" >>"$summary"
    grep -E "^BM_|floor|jobs|ERROR|asked for" "$out/$f.txt" | head -30 >>"$summary"
  done
  cat "$summary"
  ;;
largest)
  # Doubling then bisecting the longest side (multiples of 256) with 3
  # L-BFGS iterations, history 100: the largest that finishes.
  img=${STYLESWEEP_SHARED_DIR:-../shared}/images
  try() {
    build-gpu/bin/stylesweep stylize -c "$img/content/tubingen.jpg" -s "$img/style/starry_night.jpg" \
      --backbone vgg19 --device cuda --size "$1" --num-iterations 3 -o "$out/largest.png" \
      >>"$out/largest.log" 2>&1
  }
  low=0 high=2048
  while try "$high"; do low=$high; high=$((high * 2)); done
  while ((high - low > 256)); do
    mid=$(((low + high) / 2 / 256 * 256))
    if try "$mid"; then low=$mid; else high=$mid; fi
  done
  echo "largest VGG19-prefix image on one GPU: $low px (fails at $high px; largest.log says why)" | tee -a "$summary"
  ;;
*)
  sed -n '2,20p' "$0"
  exit 2
  ;;
esac
