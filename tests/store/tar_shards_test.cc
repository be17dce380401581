#include "store/tar_shards.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/sha256.h"
#include "tests/store/read_shards.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::ReadShards;

std::string Key(int i) { return "k" + std::to_string(1000 + i); }

std::vector<SampleFile> Sample(int i, std::size_t png_bytes = 64) {
  return {{"png", std::string(png_bytes, static_cast<char>('a' + i % 26))},
          {"json", nlohmann::json{{"job_key", Key(i)}}.dump()},
          {"content.png", "content of " + std::to_string(i)}};
}

TEST(TarShards, ShardsHoldShardSizeSamplesEachReadableByPythonTarfile) {
  testing::TempDir dir("tar_shards");
  TarShardWriter writer({dir.path(), "ds", 3});
  ASSERT_TRUE(writer.Open().ok());
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(writer.Add(Key(i), Sample(i)).ok());
  EXPECT_EQ(writer.shards_written(), 2);
  EXPECT_EQ(writer.staged(), 1u);
  ASSERT_TRUE(writer.Finish().ok());

  Result<std::map<std::string, testing::ShardContents>> shards = ReadShards(dir.path());
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 3u);
  const std::vector<std::size_t> sizes = {3, 3, 1};
  std::set<std::string> keys;
  int s = 0;
  for (const auto& [name, samples] : *shards) {
    EXPECT_EQ(name, "ds-00000" + std::to_string(s) + ".tar");
    EXPECT_EQ(samples.size(), sizes[s]) << name;
    for (const auto& [key, files] : samples) {
      const int i = std::stoi(key.substr(1)) - 1000;  // Key(i) = "k" + (1000 + i)
      EXPECT_EQ(files, (std::map<std::string, std::string>{{"content.png", "content of " + std::to_string(i)},
                                                           {"json", "{\"job_key\":\"" + key + "\"}"},
                                                           {"png", std::string(64, static_cast<char>('a' + i))}}))
          << key;
      EXPECT_TRUE(keys.insert(key).second) << key << " in two shards";
    }
    ++s;
  }
  EXPECT_EQ(keys.size(), 7u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/.staging/" + Key(6) + ".json"));
}

TEST(TarShards, AResumedWriterAppendsShardsAndNeverRewritesFinishedOnes) {
  testing::TempDir dir("tar_shards");
  {
    TarShardWriter first({dir.path(), "ds", 3});
    ASSERT_TRUE(first.Open().ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(first.Add(Key(i), Sample(i)).ok());
    // Interrupted: no Finish; one sample waits in the staging folder.
  }
  // A shard left half-written by a killed process is a temporary file.
  ASSERT_TRUE(WriteFileAtomically(dir.path() + "/ignored", "x").ok());
  std::FILE* partial = std::fopen((dir.path() + "/ds-000001.tar.tmp.4242").c_str(), "w");
  std::fputs("half a shard", partial);
  std::fclose(partial);
  Result<std::string> shard0 = ReadWholeFile(dir.path() + "/ds-000000.tar");
  ASSERT_TRUE(shard0.ok());

  TarShardWriter resumed({dir.path(), "ds", 3});
  ASSERT_TRUE(resumed.Open().ok());
  EXPECT_EQ(resumed.staged(), 1u);
  for (int i = 4; i < 6; ++i) ASSERT_TRUE(resumed.Add(Key(i), Sample(i)).ok());
  ASSERT_TRUE(resumed.Finish().ok());
  EXPECT_EQ(*ReadWholeFile(dir.path() + "/ds-000000.tar"), *shard0);

  Result<std::map<std::string, testing::ShardContents>> shards = ReadShards(dir.path());
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 2u);
  std::set<std::string> keys;
  for (const auto& [name, samples] : *shards) {
    for (const auto& [key, files] : samples) EXPECT_TRUE(keys.insert(key).second) << key;
  }
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_TRUE(shards->count("ds-000001.tar"));
}

TEST(TarShards, AKilledWriterLeavesOnlyWholeShardsAndTheRestResumes) {
  testing::TempDir dir("tar_shards");
  constexpr int kSamples = 200;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    TarShardWriter writer({dir.path(), "ds", 2});
    if (!writer.Open().ok()) _exit(2);
    for (int i = 0; i < kSamples; ++i) {
      if (!writer.Add(Key(i), Sample(i, 1 << 18)).ok()) _exit(3);
    }
    _exit(0);
  }
  // Kill it mid-way: once a few shards exist.
  for (int waited = 0; waited < 2000; ++waited) {
    int shards = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) shards += entry.path().extension() == ".tar";
    if (shards >= 3) break;
    usleep(10000);
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer finished before it could be killed";

  Result<std::map<std::string, testing::ShardContents>> after_kill = ReadShards(dir.path());
  ASSERT_TRUE(after_kill.ok()) << after_kill.status().ToString();  // every NAME-*.tar opens whole
  ASSERT_GE(after_kill->size(), 3u);
  for (const auto& [name, samples] : *after_kill) {
    EXPECT_EQ(samples.size(), 2u) << name;
    for (const auto& [key, files] : samples) EXPECT_EQ(files.size(), 3u) << name << " " << key;
  }

  TarShardWriter resumed({dir.path(), "ds", 2});
  ASSERT_TRUE(resumed.Open().ok());
  std::set<std::string> packed;
  for (const auto& [name, samples] : *after_kill) {
    for (const auto& [key, files] : samples) packed.insert(key);
  }
  for (int i = 0; i < kSamples; ++i) {
    if (packed.count(Key(i)) == 0) {
      ASSERT_TRUE(resumed.Add(Key(i), Sample(i, 16)).ok());
    }
  }
  ASSERT_TRUE(resumed.Finish().ok());
  Result<std::map<std::string, testing::ShardContents>> all = ReadShards(dir.path());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::set<std::string> keys;
  for (const auto& [name, samples] : *all) {
    for (const auto& [key, files] : samples) EXPECT_TRUE(keys.insert(key).second) << key << " twice";
  }
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(kSamples));
}

TEST(TarShards, KeysWithDotsOrSlashesAreRefused) {
  testing::TempDir dir("tar_shards");
  TarShardWriter writer({dir.path(), "ds", 3});
  ASSERT_TRUE(writer.Open().ok());
  EXPECT_EQ(writer.Add("a.b", Sample(0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer.Add("a/b", Sample(0)).code(), StatusCode::kInvalidArgument);
}

// A job run again after a kill between its staging and its record adds a key
// that the reopened writer already packed from the staging folder: it stays
// in its shard once.
TEST(TarShards, AKeyStagedBeforeAKillAndAddedAgainIsPackedOnce) {
  testing::TempDir dir("tar_shards");
  {
    TarShardWriter killed({dir.path(), "ds", 2});
    ASSERT_TRUE(killed.Open().ok());
    ASSERT_TRUE(killed.Add(Key(0), Sample(0, 16)).ok());  // staged, no shard yet; never finished
  }
  TarShardWriter resumed({dir.path(), "ds", 2});
  ASSERT_TRUE(resumed.Open().ok());
  ASSERT_EQ(resumed.staged(), 1u);
  ASSERT_TRUE(resumed.Add(Key(1), Sample(1, 16)).ok());  // fills shard 0 with keys 0 and 1
  ASSERT_TRUE(resumed.Add(Key(0), Sample(0, 16)).ok());  // the rerun of job 0
  ASSERT_TRUE(resumed.Add(Key(2), Sample(2, 16)).ok());
  ASSERT_TRUE(resumed.Finish().ok());
  Result<std::map<std::string, testing::ShardContents>> all = ReadShards(dir.path());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::map<std::string, int> times;
  for (const auto& [name, samples] : *all) {
    for (const auto& [key, files] : samples) ++times[key];
  }
  EXPECT_EQ(times.size(), 3u);
  for (const auto& [key, count] : times) EXPECT_EQ(count, 1) << key;
}

}  // namespace
}  // namespace stylesweep

