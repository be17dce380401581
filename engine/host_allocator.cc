#include "engine/host_allocator.h"

#include <climits>
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <dlfcn.h>
#include <malloc.h>
#endif

namespace stylesweep {

HostAllocatorSetting ConfigureHostAllocator() {
  HostAllocatorSetting setting;
#if defined(__GLIBC__)
  // tcmalloc (linked, cmake/HostAllocator.cmake, or preloaded) already
  // reuses large blocks. Its malloc is an alias of tc_malloc: that it is the
  // one in use, not merely loaded, is told by the two having one address.
  void* const tc_malloc = ::dlsym(RTLD_DEFAULT, "tc_malloc");
  if (tc_malloc != nullptr && tc_malloc == ::dlsym(RTLD_DEFAULT, "malloc")) {
    setting.description = "tcmalloc";
    return setting;
  }
  for (const char* name : {"MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"}) {
    if (std::getenv(name) != nullptr) {
      setting.description = std::string("glibc malloc, left as the environment sets it (") + name + ")";
      return setting;
    }
  }
  if (const char* tunables = std::getenv("GLIBC_TUNABLES"); tunables != nullptr && std::strstr(tunables, "glibc.malloc")) {
    setting.description = "glibc malloc, left as the environment sets it (GLIBC_TUNABLES)";
    return setting;
  }
  if (mallopt(M_MMAP_MAX, 0) != 1 || mallopt(M_TRIM_THRESHOLD, INT_MAX) != 1) {
    setting.description = "glibc malloc, which refused the settings: large blocks are mapped per allocation";
    return setting;
  }
  setting.changed = true;
  setting.description = "glibc malloc: large blocks from the heap and reused (M_MMAP_MAX 0, M_TRIM_THRESHOLD 2 GiB)";
#else
  setting.description = "not glibc: left as it is";
#endif
  return setting;
}

}  // namespace stylesweep
