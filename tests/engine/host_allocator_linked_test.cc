// A program linked as the engine's programs are (stylesweep_use_host_allocator,
// cmake/HostAllocator.cmake) allocates with tcmalloc where the build found
// it, and otherwise with glibc's malloc tuned by ConfigureHostAllocator.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "engine/host_allocator.h"

namespace stylesweep {
namespace {

TEST(HostAllocatorLinked, TheEnginesProgramsUseTheChosenAllocator) {
  HostAllocatorSetting setting = ConfigureHostAllocator();
#if STYLESWEEP_LINKED_TCMALLOC
  EXPECT_EQ(setting.description, "tcmalloc") << "linked with tcmalloc, but malloc is not its";
  EXPECT_FALSE(setting.changed);
#else
  if (std::getenv("GLIBC_TUNABLES") != nullptr || std::getenv("MALLOC_MMAP_MAX_") != nullptr) {
    GTEST_SKIP() << "glibc's malloc is tuned by this environment";
  }
  EXPECT_TRUE(setting.changed) << setting.description;
#endif
  // Whichever it is, large blocks work.
  void* block = std::malloc(size_t{96} << 20);
  ASSERT_NE(block, nullptr);
  std::memset(block, 0, size_t{96} << 20);
  std::free(block);
}

}  // namespace
}  // namespace stylesweep
