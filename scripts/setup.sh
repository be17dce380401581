#!/usr/bin/env bash
# Installs every Debian 12 package stylesweep needs to build, test and run.
# Idempotent: when everything is already installed it changes nothing and
# does not touch the network. Run as root (or with sudo available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache git pkg-config
  # engine: LibTorch (CPU) and a fast BLAS for its matrix products (Gram matrices)
  libtorch-dev libopenblas0-pthread
  # engine: an allocator that reuses large tensors (cmake/HostAllocator.cmake)
  libtcmalloc-minimal4
  # scheduler: MPI
  libopenmpi-dev openmpi-bin
  # store: SQLite, sha256 (OpenSSL libcrypto)
  libsqlite3-dev libssl-dev
  # CLI, sweep files, JSON, images
  libboost-program-options-dev libyaml-cpp-dev nlohmann-json3-dev libstb-dev libpng-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # weight converter, its test and the PyTorch baseline benchmark
  python3 python3-torch python3-torchvision python3-numpy python3-pil
  # report tests: a real browser
  chromium
  # cluster test: a one-node Slurm (scripts/slurm/one_node_cluster.sh; the
  # basic plugins bring srun's PMIx) and sqlite3 to watch a running store
  slurm-wlm slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge sqlite3
  # multi-node tests: network namespaces as nodes (tests/cluster/netns_nodes.sh)
  iproute2 util-linux
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages already installed"
fi

# LibTorch calls the system BLAS for matrix products: make sure it is OpenBLAS,
# not the reference BLAS (about 16x slower Gram matrices here).
alt=libblas.so.3-x86_64-linux-gnu
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
if [[ -e $openblas ]] && [[ $(readlink -f /etc/alternatives/$alt 2>/dev/null) != "$openblas" ]]; then
  SUDO=""; if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  $SUDO update-alternatives --set $alt $openblas
fi
