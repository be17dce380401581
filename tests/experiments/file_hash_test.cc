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
using testing::WriteTinyPng;

std::string AbsolutePath(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

std::string MtimeNs(const std::string& path) {
  return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::filesystem::last_write_time(path).time_since_epoch())
                            .count());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

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

TEST(FileHasherImages, ASavedCacheKeepsEachImagesHeaderWithItsDigest) {
  ScratchDir dir;
  WriteTinyPng(dir / "a.png", 40, 30, "salt a");
  const std::string cache = dir / "file-hashes.tsv";
  {
    FileHasher first;
    Result<HashedImage> image = first.HashImage(dir / "a.png");
    ASSERT_TRUE(image.ok()) << image.status().ToString();
    EXPECT_EQ(image->probe.format, "png");
    EXPECT_EQ(image->probe.width, 40);
    EXPECT_EQ(image->probe.height, 30);
    EXPECT_EQ(image->sha256, *first.Hash(dir / "a.png"));
    EXPECT_EQ(first.files_hashed(), 1);
    ASSERT_TRUE(first.SaveCache(cache).ok());
  }
  EXPECT_NE(ReadAll(cache).find("\tpng:40x30\t" + AbsolutePath(dir / "a.png") + "\n"), std::string::npos)
      << ReadAll(cache);
  FileHasher second;
  ASSERT_TRUE(second.LoadCache(cache).ok());
  Result<HashedImage> again = second.HashImage(dir / "a.png");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->probe.width, 40);
  EXPECT_EQ(again->probe.height, 30);
  EXPECT_EQ(second.files_hashed(), 0);
}

TEST(FileHasherImages, TheCachedHeaderIsTrustedUntilTheFileChangesOrRehash) {
  ScratchDir dir;
  WriteTinyPng(dir / "a.png", 40, 30, "salt a");
  const std::string file = AbsolutePath(dir / "a.png");
  const std::string size = std::to_string(std::filesystem::file_size(file));
  // A cache that says 999x777: only the header read from the file can contradict it.
  const std::string cache = dir / "file-hashes.tsv";
  WriteText(cache, std::string(64, 'f') + "\t" + size + "\t" + MtimeNs(file) + "\tpng:999x777\t" + file + "\n");
  {
    FileHasher trusting;
    ASSERT_TRUE(trusting.LoadCache(cache).ok());
    Result<HashedImage> image = trusting.HashImage(file);
    ASSERT_TRUE(image.ok());
    EXPECT_EQ(image->probe.width, 999);
    EXPECT_EQ(image->sha256, std::string(64, 'f'));
  }
  {
    FileHasher rehashing;
    rehashing.set_rehash(true);
    ASSERT_TRUE(rehashing.LoadCache(cache).ok());
    Result<HashedImage> image = rehashing.HashImage(file);
    ASSERT_TRUE(image.ok());
    EXPECT_EQ(image->probe.width, 40);
    EXPECT_NE(image->sha256, std::string(64, 'f'));
  }
  WriteTinyPng(file, 50, 60, "salt b");  // same size: only the time tells
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + std::chrono::seconds(5));
  FileHasher after_change;
  ASSERT_TRUE(after_change.LoadCache(cache).ok());
  Result<HashedImage> changed = after_change.HashImage(file);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->probe.width, 50);
  EXPECT_EQ(changed->probe.height, 60);
  EXPECT_EQ(after_change.files_hashed(), 1);
}

TEST(FileHasherImages, ALineWithoutAHeaderKeepsItsDigestAndGainsTheHeader) {
  ScratchDir dir;
  WriteTinyPng(dir / "a.png", 16, 8);
  const std::string file = AbsolutePath(dir / "a.png");
  const std::string size = std::to_string(std::filesystem::file_size(file));
  const std::string cache = dir / "file-hashes.tsv";
  WriteText(cache, std::string(64, 'e') + "\t" + size + "\t" + MtimeNs(file) + "\t" + file + "\n" +
                       std::string(64, 'd') + "\t1\t2\tgif:1x1\t/not/a/format/we/read\n");
  FileHasher hasher;
  ASSERT_TRUE(hasher.LoadCache(cache).ok());
  Result<HashedImage> image = hasher.HashImage(file);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->sha256, std::string(64, 'e'));  // the digest from the cache: the file was not read whole
  EXPECT_EQ(image->probe.width, 16);
  EXPECT_EQ(hasher.files_hashed(), 0);
  ASSERT_TRUE(hasher.SaveCache(cache).ok());
  EXPECT_EQ(ReadAll(cache), std::string(64, 'e') + "\t" + size + "\t" + MtimeNs(file) + "\tpng:16x8\t" + file + "\n");
}

TEST(FileHasherImages, AFileThatIsNotAnImageGivesTheProbesErrorAndIsNotCached) {
  ScratchDir dir;
  WriteText(dir / "notes.png", "plain text");
  FileHasher hasher;
  EXPECT_EQ(hasher.HashImage(dir / "notes.png").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(hasher.HashImage(dir / "missing.png").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(hasher.files_hashed(), 0);
  const std::string cache = dir / "file-hashes.tsv";
  ASSERT_TRUE(hasher.SaveCache(cache).ok());
  EXPECT_FALSE(std::filesystem::exists(cache));
}

}  // namespace
}  // namespace stylesweep
