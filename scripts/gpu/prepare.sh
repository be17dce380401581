#!/usr/bin/env bash
# Prepares the git-ignored folder .gpu/ that a GPU machine without a package
# registry needs (../shared/GPU_BUILD.md): the Debian packages of every
# library the build finds (unpacked there under a prefix by
# scripts/gpu/run.sh, never over /) and the shared weights and images.
# Run on the Debian machine, in the repository; then carry ".gpu" with the
# device tool's run and call scripts/gpu/run.sh there.
#
#   scripts/gpu/prepare.sh            # needs apt-get and ../shared (or STYLESWEEP_SHARED_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >>"$exclude"

shared=${STYLESWEEP_SHARED_DIR:-../shared}
if [[ ! -d $shared/models || ! -d $shared/images ]]; then
  echo "prepare: no models/ and images/ in $shared (set STYLESWEEP_SHARED_DIR)" >&2
  exit 1
fi
rm -rf .gpu/debs .gpu/assets
mkdir -p .gpu/debs .gpu/assets
cp -r "$shared/models" "$shared/images" .gpu/assets/

# Open MPI and its run-time libraries (GPU_BUILD.md's list), then the -dev
# packages and run-time libraries of everything CMakeLists.txt finds:
# SQLite, Boost.Program_options, yaml-cpp, nlohmann-json, libpng (+ zlib),
# OpenSSL's libcrypto, stb, GoogleTest and Google Benchmark; and tcmalloc,
# the engine's allocator (cmake/HostAllocator.cmake).
packages=(
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common libhwloc15 libevent-core-2.1-7
  libevent-pthreads-2.1-7 libpmix2 libfabric1 libucx0 libpsm2-2 libpsm-infinipath1 libibverbs1
  librdmacm1 libnl-3-200 libnl-route-3-200
  libsqlite3-dev libsqlite3-0
  libboost-program-options-dev libboost-program-options1.74-dev libboost-program-options1.74.0 libboost1.74-dev
  libyaml-cpp-dev libyaml-cpp0.7
  nlohmann-json3-dev
  libpng-dev libpng16-16 zlib1g-dev
  libssl-dev libssl3
  libstb-dev libstb0
  libgtest-dev libgmock-dev
  libbenchmark-dev libbenchmark1debian
  libtcmalloc-minimal4
)
(cd .gpu/debs && apt-get download "${packages[@]}" >/dev/null)
echo "prepare: .gpu/ holds $(ls .gpu/debs | wc -l) packages and the assets ($(du -sh .gpu | cut -f1) in all;" \
     "the device tool carries at most 64 MiB with the tree)"
