// How the process's C allocator serves LibTorch's CPU tensors. Torch-free.
#pragma once

#include <string>

namespace stylesweep {

struct HostAllocatorSetting {
  bool changed = false;
  std::string description;  // what was set, or why nothing was
};

// glibc's malloc serves every block above its mmap threshold (32 MiB at
// most) with fresh pages from the kernel and unmaps them again on free. A
// style-transfer evaluation at 512 px allocates and frees activations of
// 64 MiB and more, so each evaluation faulted its memory in again, pages the
// kernel zeroes first: VGG19 iterations at 512 px ran 5x slower than with
// the blocks reused (docs/BENCHMARKS.md).
//
// The engine's programs are linked with tcmalloc where it is installed
// (cmake/HostAllocator.cmake), which reuses large blocks: then this changes
// nothing. Under glibc's malloc it keeps every block on the heap
// (M_MMAP_MAX 0) and freed memory in the process (M_TRIM_THRESHOLD 2 GiB):
// as fast, at the cost of a resident set that stays near its peak (about
// 1.25x tcmalloc's for VGG19 at 512 px). It leaves glibc alone where the
// environment already tunes it (MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_,
// MALLOC_MMAP_THRESHOLD_, or GLIBC_TUNABLES naming glibc.malloc), and any
// other C library too.
//
// Call once, early in main(), before threads start.
HostAllocatorSetting ConfigureHostAllocator();

}  // namespace stylesweep
