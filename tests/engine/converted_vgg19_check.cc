// Checks a VGG19 file written by scripts/convert_vgg19.py through the engine's
// SafetensorsFile. Run by tests/scripts/convert_vgg19_test.sh, which sets
//   STYLESWEEP_CONVERTED_VGG19           the converted .safetensors file
//   STYLESWEEP_CONVERTED_VGG19_EXPECTED  JSON {"input": ..., "tensors":
//                                        {name: {"shape", "sha256"}}} made
//                                        from the source .pth
// Not registered on its own: without those variables every test fails.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/safetensors.h"

namespace stylesweep {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string Sha256Hex(const std::vector<float>& values) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(values.data()), values.size() * sizeof(float), digest);
  std::string hex;
  char byte[3];
  for (unsigned char d : digest) {
    std::snprintf(byte, sizeof byte, "%02x", d);
    hex += byte;
  }
  return hex;
}

TEST(ConvertedVgg19, MatchesTheSourceWeights) {
  const std::string path = Env("STYLESWEEP_CONVERTED_VGG19");
  const std::string expected_path = Env("STYLESWEEP_CONVERTED_VGG19_EXPECTED");
  ASSERT_FALSE(path.empty()) << "set STYLESWEEP_CONVERTED_VGG19";
  ASSERT_FALSE(expected_path.empty()) << "set STYLESWEEP_CONVERTED_VGG19_EXPECTED";
  std::ifstream in(expected_path);
  ASSERT_TRUE(in) << expected_path;
  const nlohmann::json expected = nlohmann::json::parse(in);

  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->metadata().at("arch"), "vgg19");
  EXPECT_EQ(file->metadata().at("input"), expected.at("input").get<std::string>());
  EXPECT_EQ(file->metadata().count("source"), 1u);
  EXPECT_EQ(file->metadata().count("layout"), 1u);
  ASSERT_EQ(file->tensors().size(), 32u);
  for (const auto& [name, want] : expected.at("tensors").items()) {
    SCOPED_TRACE(name);
    const TensorInfo* info = file->Find(name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->dtype, "F32");
    EXPECT_EQ(info->shape, want.at("shape").get<std::vector<std::int64_t>>());
    Result<std::vector<float>> values = file->ReadFloat32(name);
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    EXPECT_EQ(Sha256Hex(*values), want.at("sha256").get<std::string>()) << "values differ from the source";
  }
}

}  // namespace
}  // namespace stylesweep
