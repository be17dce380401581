#include "common/sha256.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::TempDir;

TEST(Sha256Hex, MatchesTheStandardTestVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256File, MatchesTheDigestOfItsBytesAcrossChunks) {
  TempDir dir;
  const std::string path = dir.path() + "/big.bin";
  std::string big(3 * (1 << 20) + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
  std::ofstream(path, std::ios::binary) << big;
  Result<std::string> digest = Sha256File(path);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(*digest, Sha256Hex(big));
}

TEST(Sha256File, NamesAMissingFileOrAFolder) {
  TempDir dir;
  Result<std::string> missing = Sha256File(dir.path() + "/nope.bin");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.bin"), std::string::npos);
  EXPECT_EQ(Sha256File(dir.path()).status().code(), StatusCode::kInvalidArgument);
}

TEST(Sha256, TextsFinishedFromACopiedPrefixHashAsWholeTexts) {
  EXPECT_EQ(Sha256().HexDigest(), Sha256Hex(""));
  Sha256 prefix;
  prefix.Update("{\"content_sha256\":");
  prefix.Update(std::string(200, 'x'));  // past one 64-byte block
  Sha256 reused = prefix;
  for (const std::string& tail : std::vector<std::string>{"a", "", std::string(100, 'b')}) {
    reused = prefix;
    reused.Update(tail);
    EXPECT_EQ(reused.HexDigest(), Sha256Hex("{\"content_sha256\":" + std::string(200, 'x') + tail)) << tail;
  }
  Sha256 copy(prefix);
  EXPECT_EQ(copy.HexDigest(), Sha256Hex("{\"content_sha256\":" + std::string(200, 'x')));
  // The prefix itself is unchanged by its copies.
  prefix.Update("!");
  EXPECT_EQ(prefix.HexDigest(), Sha256Hex("{\"content_sha256\":" + std::string(200, 'x') + "!"));
}

}  // namespace
}  // namespace stylesweep
