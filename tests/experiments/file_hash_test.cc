#include "experiments/file_hash.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::ScratchDir;
using testing::WriteText;

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FileDigestEqualsDigestOfItsBytes) {
  ScratchDir dir;
  std::string big(3 << 20, 'x');  // spans several read chunks
  big[12345] = 'y';
  WriteText(dir / "big.bin", big);
  Result<std::string> digest = Sha256File(dir / "big.bin");
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(*digest, Sha256Hex(big));
}

TEST(Sha256, MissingFileIsNotFoundNamingIt) {
  Result<std::string> digest = Sha256File("/nonexistent/weights.safetensors");
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kNotFound);
  EXPECT_NE(digest.status().message().find("/nonexistent/weights.safetensors"), std::string::npos);
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

}  // namespace
}  // namespace stylesweep
