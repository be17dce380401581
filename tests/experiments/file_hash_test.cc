#include "experiments/file_hash.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::ScratchDir;
using testing::WriteText;

TEST(FileHasher, HashesEachUnchangedFileOnce) {
  ScratchDir dir;
  WriteText(dir / "w.bin", "weights");
  FileHasher hasher;
  for (int i = 0; i < 5; ++i) {
    Result<std::string> digest = hasher.Hash(dir / "w.bin");
    ASSERT_TRUE(digest.ok());
    EXPECT_EQ(*digest, Sha256Hex("weights"));
  }
  EXPECT_EQ(hasher.files_hashed(), 1);
}

TEST(FileHasher, RehashesWhenTheFileChanges) {
  ScratchDir dir;
  WriteText(dir / "w.bin", "weights v1");
  FileHasher hasher;
  ASSERT_EQ(*hasher.Hash(dir / "w.bin"), Sha256Hex("weights v1"));
  WriteText(dir / "w.bin", "weights v2!");  // different size
  std::filesystem::last_write_time(dir / "w.bin",
                                   std::filesystem::last_write_time(dir / "w.bin") + std::chrono::seconds(2));
  EXPECT_EQ(*hasher.Hash(dir / "w.bin"), Sha256Hex("weights v2!"));
  EXPECT_EQ(hasher.files_hashed(), 2);
}

}  // namespace
}  // namespace stylesweep
