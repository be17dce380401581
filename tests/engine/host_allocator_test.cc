// ConfigureHostAllocator (engine/host_allocator.h): after it, a block larger
// than glibc's mmap ceiling comes from the heap and is reused, instead of
// being mapped on every allocation; tuning from the environment is left
// alone. The setting is process-wide and cannot be undone: under CTest each
// TEST runs in its own process (gtest_add_tests). Run directly, the binary
// gives the same verdicts because only the first test changes the setting
// and the second does not depend on it; --gtest_repeat or a shuffle that runs
// the first test twice in one process fails its precondition by design.
#include "engine/host_allocator.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace stylesweep {
namespace {

constexpr size_t kLargeBlock = size_t{64} << 20;  // above glibc's 32 MiB mmap ceiling

// Blocks currently mapped by malloc, and whether allocating one large block
// (touched, as a tensor is) added one.
size_t MappedBlocks() {
#if defined(__GLIBC__)
  return mallinfo2().hblks;
#else
  return 0;
#endif
}
bool LargeBlockIsMapped() {
  const size_t before = MappedBlocks();
  void* block = std::malloc(kLargeBlock);
  EXPECT_NE(block, nullptr);
  std::memset(block, 1, kLargeBlock);
  const bool mapped = MappedBlocks() > before;
  std::free(block);
  return mapped;
}

TEST(HostAllocator, LargeBlocksComeFromTheHeapAfterwards) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "not glibc: ConfigureHostAllocator leaves the allocator alone";
#else
  for (const char* name : {"MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"}) {
    if (std::getenv(name) != nullptr) GTEST_SKIP() << name << " is set in this environment";
  }
  ASSERT_TRUE(LargeBlockIsMapped()) << "glibc's default maps a 64 MiB block";
  HostAllocatorSetting setting = ConfigureHostAllocator();
  EXPECT_TRUE(setting.changed) << setting.description;
  EXPECT_NE(setting.description.find("M_MMAP_MAX 0"), std::string::npos) << setting.description;
  EXPECT_FALSE(LargeBlockIsMapped());
  // Freed, the block stays in the process: the next one reuses it.
  const size_t heap_before = mallinfo2().arena;
  EXPECT_FALSE(LargeBlockIsMapped());
  EXPECT_EQ(mallinfo2().arena, heap_before) << "the second block grew the heap again";
#endif
}

TEST(HostAllocator, TuningFromTheEnvironmentIsLeftAlone) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "not glibc";
#endif
  ASSERT_EQ(::setenv("MALLOC_TRIM_THRESHOLD_", "1048576", 1), 0);
  HostAllocatorSetting setting = ConfigureHostAllocator();
  EXPECT_FALSE(setting.changed);
  EXPECT_NE(setting.description.find("MALLOC_TRIM_THRESHOLD_"), std::string::npos) << setting.description;
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");

  ASSERT_EQ(::setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_max=0", 1), 0);
  setting = ConfigureHostAllocator();
  EXPECT_FALSE(setting.changed);
  EXPECT_NE(setting.description.find("GLIBC_TUNABLES"), std::string::npos) << setting.description;
  ::unsetenv("GLIBC_TUNABLES");
}

}  // namespace
}  // namespace stylesweep
