#include "engine/safetensors.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using Bytes = std::vector<std::uint8_t>;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(temp_.path().empty());
    dir_ = temp_.path();
  }
  // A file made of an 8-byte length, `header` and `data`, written verbatim.
  std::string WriteRaw(const std::string& name, const std::string& header, const Bytes& data) {
    Bytes bytes;
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
    bytes.insert(bytes.end(), header.begin(), header.end());
    bytes.insert(bytes.end(), data.begin(), data.end());
    return WriteBytes(name, bytes);
  }
  std::string WriteBytes(const std::string& name, const Bytes& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  // The error message Open gives for a file with `header` and `data`.
  std::string OpenError(const std::string& header, const Bytes& data) {
    Result<SafetensorsFile> file = SafetensorsFile::Open(WriteRaw("bad.safetensors", header, data));
    EXPECT_FALSE(file.ok());
    if (file.ok()) return "";
    EXPECT_EQ(file.status().code(), StatusCode::kCorrupt) << file.status().ToString();
    return file.status().message();
  }
  testing::TempDir temp_{"safetensors_test"};
  std::string dir_;
};

Bytes ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <typename T>
Bytes AsBytes(const std::vector<T>& values) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(values.data());
  return Bytes(p, p + values.size() * sizeof(T));
}

TEST(Safetensors, ReadsSharedSqueezeNet) {
  const std::string path = SharedModelsDir() + "/squeezenet_v1.0.safetensors";
  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->tensors().size(), 52u);
  const TensorInfo* conv1 = file->Find("conv1.weight");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(conv1->dtype, "F32");
  EXPECT_EQ(conv1->shape, (std::vector<std::int64_t>{96, 3, 7, 7}));
  const TensorInfo* expand = file->Find("fire9.expand3x3.weight");
  ASSERT_NE(expand, nullptr);
  EXPECT_EQ(expand->shape, (std::vector<std::int64_t>{256, 64, 3, 3}));
  ASSERT_EQ(file->metadata().count("input"), 1u);
  EXPECT_NE(file->metadata().at("input").find("BGR"), std::string::npos);

  Result<std::vector<float>> weights = file->ReadFloat32("conv1.weight");
  ASSERT_TRUE(weights.ok()) << weights.status().ToString();
  ASSERT_EQ(weights->size(), 96u * 3 * 7 * 7);
  double sum_abs = 0;
  for (float v : *weights) {
    ASSERT_TRUE(std::isfinite(v));
    sum_abs += std::fabs(v);
  }
  EXPECT_GT(sum_abs, 1.0) << "trained weights are not all zero";
}

TEST(Safetensors, ReadsSharedVgg19Prefix) {
  Result<SafetensorsFile> file = SafetensorsFile::Open(SharedModelsDir() + "/vgg19_conv1_1-conv3_4.safetensors");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->tensors().size(), 16u);
  ASSERT_NE(file->Find("conv1_1.weight"), nullptr);
  EXPECT_EQ(file->Find("conv1_1.weight")->shape, (std::vector<std::int64_t>{64, 3, 3, 3}));
  ASSERT_NE(file->Find("conv3_4.bias"), nullptr);
  EXPECT_EQ(file->Find("conv3_4.bias")->shape, (std::vector<std::int64_t>{256}));
  EXPECT_EQ(file->Find("conv4_1.weight"), nullptr);
  ASSERT_EQ(file->metadata().count("input"), 1u);
  EXPECT_FALSE(file->metadata().at("input").empty());
  Result<std::vector<float>> bias = file->ReadFloat32("conv3_4.bias");
  ASSERT_TRUE(bias.ok());
  EXPECT_EQ(bias->size(), 256u);
}

TEST_F(SafetensorsTest, WriteThenReadRoundTrips) {
  const std::string path = dir_ + "/round.safetensors";
  std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>> tensors = {
      {"b.weight", {{2, 3}, {1.5f, -2.0f, 0.0f, 3.25f, -1e-8f, 1e30f}}},
      {"a.bias", {{3}, {7.0f, 8.0f, 9.0f}}},
      {"scalar", {{}, {42.0f}}},
      {"empty", {{0, 4}, {}}},
  };
  ASSERT_TRUE(WriteSafetensorsF32(path, tensors, {{"input", "RGB, 0..1"}, {"arch", "test"}}).ok());

  const Bytes bytes = ReadBytes(path);
  ASSERT_GE(bytes.size(), 8u);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];
  EXPECT_EQ(header_size % 8, 0u) << "header padded to a multiple of 8";
  EXPECT_EQ(bytes.size(), 8 + header_size + (6 + 3 + 1) * sizeof(float));

  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"input", "RGB, 0..1"}, {"arch", "test"}}));
  ASSERT_EQ(file->tensors().size(), 4u);
  EXPECT_EQ(file->tensors()[0].name, "a.bias") << "sorted by name";
  for (const auto& [name, tensor] : tensors) {
    const TensorInfo* info = file->Find(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->shape, tensor.first);
    EXPECT_EQ(info->num_elements(), static_cast<std::int64_t>(tensor.second.size()));
    Result<std::vector<float>> values = file->ReadFloat32(name);
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    EXPECT_EQ(*values, tensor.second) << name;
  }
  // A moved-from handle hands its open file to the new owner.
  SafetensorsFile moved = std::move(*file);
  EXPECT_TRUE(moved.ReadFloat32("scalar").ok());
}

TEST_F(SafetensorsTest, WriteRejectsShapeValueMismatch) {
  Status status = WriteSafetensorsF32(dir_ + "/x.safetensors", {{"w", {{2, 2}, {1, 2, 3}}}}, {});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("tensor 'w' has shape [2,2] (4 values) but 3 values were given"),
            std::string::npos)
      << status.message();
}

TEST_F(SafetensorsTest, ConvertsHalfBFloat16AndDoubleToFloat) {
  // F16: 1.0, -2.5, 2^-14 (smallest normal), 2^-24 (smallest subnormal), 65504 (max), +Inf.
  const std::vector<std::uint16_t> half = {0x3C00, 0xC100, 0x0400, 0x0001, 0x7BFF, 0x7C00};
  // BF16: 1.0, -3.0, 1.5
  const std::vector<std::uint16_t> bf16 = {0x3F80, 0xC040, 0x3FC0};
  const std::vector<double> f64 = {0.1, -1e10};
  Bytes data = AsBytes(half);
  const Bytes b = AsBytes(bf16), d = AsBytes(f64);
  data.insert(data.end(), b.begin(), b.end());
  data.insert(data.end(), d.begin(), d.end());
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[6],"data_offsets":[0,12]},)"
      R"("bf":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]},)"
      R"("d":{"dtype":"F64","shape":[2],"data_offsets":[18,34]}})";
  Result<SafetensorsFile> file = SafetensorsFile::Open(WriteRaw("mixed.safetensors", header, data));
  ASSERT_TRUE(file.ok()) << file.status().ToString();

  Result<std::vector<float>> h = file->ReadFloat32("h");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, (std::vector<float>{1.0f, -2.5f, std::ldexp(1.0f, -14), std::ldexp(1.0f, -24), 65504.0f,
                                    INFINITY}));
  Result<std::vector<float>> bf = file->ReadFloat32("bf");
  ASSERT_TRUE(bf.ok());
  EXPECT_EQ(*bf, (std::vector<float>{1.0f, -3.0f, 1.5f}));
  Result<std::vector<float>> dd = file->ReadFloat32("d");
  ASSERT_TRUE(dd.ok());
  EXPECT_EQ(*dd, (std::vector<float>{0.1f, -1e10f}));
}

TEST_F(SafetensorsTest, MissingFileIsNotFound) {
  Result<SafetensorsFile> file = SafetensorsFile::Open(dir_ + "/none.safetensors");
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(), dir_ + "/none.safetensors: no such file");
}

TEST_F(SafetensorsTest, TruncatedFileIsCorrupt) {
  const std::string path = dir_ + "/whole.safetensors";
  ASSERT_TRUE(WriteSafetensorsF32(path, {{"w", {{4}, {1, 2, 3, 4}}}}, {}).ok());
  Bytes bytes = ReadBytes(path);

  Result<SafetensorsFile> cut_data =
      SafetensorsFile::Open(WriteBytes("cut_data.safetensors", Bytes(bytes.begin(), bytes.end() - 4)));
  EXPECT_EQ(cut_data.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(cut_data.status().message().find(
                "tensor 'w' has data_offsets [0, 16) past the end of the data area (12 bytes; truncated file?)"),
            std::string::npos)
      << cut_data.status().message();

  const std::string cut_header_path = WriteBytes("cut_header.safetensors", Bytes(bytes.begin(), bytes.begin() + 20));
  Result<SafetensorsFile> cut_header = SafetensorsFile::Open(cut_header_path);
  EXPECT_EQ(cut_header.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(cut_header.status().message().find(cut_header_path + ": header length "), std::string::npos);
  EXPECT_NE(cut_header.status().message().find("exceeds the file size 20"), std::string::npos)
      << cut_header.status().message();

  Result<SafetensorsFile> tiny = SafetensorsFile::Open(WriteBytes("tiny.safetensors", {1, 2, 3}));
  EXPECT_EQ(tiny.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(tiny.status().message().find("file is 3 bytes, too short for a safetensors header"), std::string::npos);
}

TEST_F(SafetensorsTest, GarbageHeaderLengthIsCorrupt) {
  const std::string text = "this is a text file, not weights\n";
  const std::string path = WriteBytes("text.safetensors", Bytes(text.begin(), text.end()));
  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  EXPECT_EQ(file.status().code(), StatusCode::kCorrupt);
  // "this is " read as a little-endian uint64.
  EXPECT_EQ(file.status().message(), path +
                                         ": header length 2338328219631577204 exceeds the file size 33 "
                                         "(truncated, or not a safetensors file)");
}

TEST_F(SafetensorsTest, HugeHeaderLengthIsRefusedBeforeReading) {
  // A sparse 160 MiB file whose header claims 150 MiB.
  const std::string path = dir_ + "/sparse.safetensors";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  const std::uint64_t n = 150ULL << 20;
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(n >> (8 * i));
  ASSERT_EQ(::write(fd, length, 8), 8);
  ASSERT_EQ(::ftruncate(fd, 160LL << 20), 0);
  ::close(fd);
  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  EXPECT_EQ(file.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(file.status().message().find("header length 157286400 is over the 100 MiB limit"), std::string::npos)
      << file.status().message();
}

TEST_F(SafetensorsTest, NonJsonHeaderIsCorrupt) {
  EXPECT_NE(OpenError("{\"w\": {\"dtype\": \"F32\",", {}).find(": header is not valid JSON ("), std::string::npos);
  EXPECT_NE(OpenError("[1, 2, 3]", {}).find("header is JSON but not an object (it is a array)"), std::string::npos);
}

TEST_F(SafetensorsTest, IntegerDtypeIsRefusedForWeights) {
  const std::string path =
      WriteRaw("int.safetensors", R"({"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", Bytes(16, 0));
  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << "integer tensors are valid safetensors: " << file.status().ToString();
  Result<std::vector<float>> values = file->ReadFloat32("w");
  EXPECT_EQ(values.status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(values.status().message(), path + ": tensor w has dtype I64; weights must be floating point");
}

TEST_F(SafetensorsTest, MalformedEntriesAreCorrupt) {
  EXPECT_NE(OpenError(R"({"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", Bytes(1, 0))
                .find("tensor 'w' has unknown dtype \"F8\""),
            std::string::npos);
  EXPECT_NE(OpenError(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", Bytes(4, 0))
                .find("tensor 'w' has a shape entry that is not a non-negative integer: -1"),
            std::string::npos);
  EXPECT_NE(OpenError(R"({"w":{"dtype":"F32","shape":[1]}})", Bytes(4, 0))
                .find("tensor 'w' needs \"data_offsets\": [begin, end]"),
            std::string::npos);
  EXPECT_NE(OpenError(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", Bytes(4, 0))
                .find("tensor 'w' has data_offsets [4, 0) with begin after end"),
            std::string::npos);
  EXPECT_NE(OpenError(R"({"__metadata__":{"epoch":3}})", {}).find("metadata value for \"epoch\" is not a string: 3"),
            std::string::npos);
}

TEST_F(SafetensorsTest, OffsetsOutOfRangeAreCorrupt) {
  const std::string message = OpenError(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", Bytes(16, 0));
  EXPECT_NE(message.find("tensor 'w' has data_offsets [8, 24) past the end of the data area (16 bytes"),
            std::string::npos)
      << message;
}

TEST_F(SafetensorsTest, SizeShapeMismatchIsCorrupt) {
  const std::string message = OpenError(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", Bytes(24, 0));
  EXPECT_NE(message.find("tensor 'w' has shape [2,3] of F32 (24 bytes) but data_offsets [0, 20) span 20 bytes"),
            std::string::npos)
      << message;
}

TEST_F(SafetensorsTest, OverlappingTensorsAreCorrupt) {
  const std::string message = OpenError(
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
      Bytes(16, 0));
  EXPECT_NE(message.find("tensors 'a' [0, 16) and 'b' [8, 16) overlap"), std::string::npos) << message;
}

TEST_F(SafetensorsTest, MissingTensorListsWhatTheFileHas) {
  const std::string path = dir_ + "/few.safetensors";
  ASSERT_TRUE(WriteSafetensorsF32(path, {{"conv1.weight", {{1}, {1}}}, {"conv1.bias", {{1}, {2}}}}, {}).ok());
  Result<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok());
  Result<std::vector<float>> missing = file->ReadFloat32("conv2.weight");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            path + ": no tensor named 'conv2.weight'; the file has 2 tensors: conv1.bias, conv1.weight");

  // Long lists are cut after 20 names.
  std::map<std::string, std::pair<std::vector<std::int64_t>, std::vector<float>>> many;
  for (int i = 10; i < 40; ++i) many["t" + std::to_string(i)] = {{1}, {float(i)}};
  const std::string many_path = dir_ + "/many.safetensors";
  ASSERT_TRUE(WriteSafetensorsF32(many_path, many, {}).ok());
  Result<SafetensorsFile> big = SafetensorsFile::Open(many_path);
  ASSERT_TRUE(big.ok());
  const std::string message = big->ReadFloat32("nope").status().message();
  EXPECT_NE(message.find("the file has 30 tensors: t10, t11,"), std::string::npos) << message;
  EXPECT_NE(message.find("t29, ... (10 more)"), std::string::npos) << message;
  EXPECT_EQ(message.find("t30"), std::string::npos) << message;
}

}  // namespace
}  // namespace stylesweep
