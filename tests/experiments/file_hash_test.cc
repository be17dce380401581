#include "experiments/file_hash.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

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

TEST(FileHasherCache, ASavedCacheSparesTheNextProcessTheReads) {
  ScratchDir dir;
  WriteText(dir / "a.png", "image a");
  WriteText(dir / "b.png", "image b");
  const std::string cache = dir / "cache/file-hashes.tsv";
  {
    FileHasher first;
    ASSERT_TRUE(first.LoadCache(cache).ok());  // missing: an empty cache
    ASSERT_TRUE(first.Hash(dir / "a.png").ok());
    ASSERT_TRUE(first.Hash(dir / "b.png").ok());
    ASSERT_TRUE(first.SaveCache(cache).ok());
  }
  FileHasher second;
  ASSERT_TRUE(second.LoadCache(cache).ok());
  EXPECT_EQ(*second.Hash(dir / "a.png"), Sha256Hex("image a"));
  EXPECT_EQ(*second.Hash(dir / "b.png"), Sha256Hex("image b"));
  EXPECT_EQ(second.files_hashed(), 0);
}

TEST(FileHasherCache, AChangedFileIsHashedAgainAndItsStaleEntryDropped) {
  ScratchDir dir;
  WriteText(dir / "a.png", "image a");
  const std::string cache = dir / "file-hashes.tsv";
  {
    FileHasher first;
    ASSERT_TRUE(first.Hash(dir / "a.png").ok());
    ASSERT_TRUE(first.SaveCache(cache).ok());
  }
  WriteText(dir / "a.png", "image A");  // same size: only the time tells
  std::filesystem::last_write_time(dir / "a.png",
                                   std::filesystem::last_write_time(dir / "a.png") + std::chrono::seconds(5));
  {
    FileHasher second;
    ASSERT_TRUE(second.LoadCache(cache).ok());
    EXPECT_EQ(*second.Hash(dir / "a.png"), Sha256Hex("image A"));
    EXPECT_EQ(second.files_hashed(), 1);
    ASSERT_TRUE(second.SaveCache(cache).ok());
  }
  std::ifstream in(cache);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 1);
}

TEST(FileHasherCache, RehashDistrustsTheCacheAndAWrongEntryIsCorrected) {
  ScratchDir dir;
  WriteText(dir / "a.png", "image a");
  const std::string absolute = std::filesystem::absolute(dir / "a.png").lexically_normal().string();
  const auto mtime = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::filesystem::last_write_time(absolute).time_since_epoch())
                         .count();
  // A cache that is wrong about the file (e.g. rewritten within the file
  // system's time resolution): only --rehash can tell.
  const std::string cache = dir / "file-hashes.tsv";
  WriteText(cache, std::string(64, 'f') + "\t7\t" + std::to_string(mtime) + "\t" + absolute + "\nnot a line\n");
  {
    FileHasher trusting;
    ASSERT_TRUE(trusting.LoadCache(cache).ok());
    EXPECT_EQ(*trusting.Hash(absolute), std::string(64, 'f'));
  }
  FileHasher rehashing;
  rehashing.set_rehash(true);
  ASSERT_TRUE(rehashing.LoadCache(cache).ok());
  EXPECT_EQ(*rehashing.Hash(absolute), Sha256Hex("image a"));
  EXPECT_EQ(rehashing.files_hashed(), 1);
  ASSERT_TRUE(rehashing.SaveCache(cache).ok());
  FileHasher after;
  ASSERT_TRUE(after.LoadCache(cache).ok());
  EXPECT_EQ(*after.Hash(absolute), Sha256Hex("image a"));
  EXPECT_EQ(after.files_hashed(), 0);
}

}  // namespace
}  // namespace stylesweep
