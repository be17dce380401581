// Every bad input a user can hand StyleTransfer::Run: each must come back as
// a Status with the right code and a message naming the file or setting,
// never a crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "engine/safetensors.h"
#include "engine/style_transfer.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

class StyleTransferErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(temp_.path().empty());
    dir_ = temp_.path();
    EngineConfig config;
    config.models_dir = SharedModelsDir();
    engine_ = std::make_unique<StyleTransfer>(config);
  }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // A safetensors file from a JSON header and raw data bytes.
  std::string WriteSafetensors(const std::string& name, const std::string& header, const std::string& data) {
    std::string bytes;
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return Write(name, bytes + header + data);
  }

  static StyleJob Job() {
    StyleJob job;
    job.content_path = SharedImagesDir() + "/content/tubingen.jpg";
    job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
    job.options.backbone = "squeezenet1_0";
    job.options.size = 32;
    job.options.num_iterations = 3;
    return job;
  }

  // Runs `job`, expects failure with `code` and every one of `fragments` in
  // the message; Validate must agree when `validate_too`.
  void ExpectFailure(const StyleJob& job, StatusCode code, const std::vector<std::string>& fragments,
                     bool validate_too = false) {
    auto result = engine_->Run(job);
    ASSERT_FALSE(result.ok()) << "the run should have failed";
    EXPECT_EQ(result.status().code(), code) << result.status().ToString();
    for (const auto& fragment : fragments) {
      EXPECT_NE(result.status().message().find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << result.status().message();
    }
    if (validate_too) {
      Status validated = engine_->Validate(job);
      EXPECT_EQ(validated.code(), code) << validated.ToString();
    }
  }

  testing::TempDir temp_{"style_transfer_errors"};
  std::string dir_;
  std::unique_ptr<StyleTransfer> engine_;
};

TEST_F(StyleTransferErrors, MissingContentImage) {
  StyleJob job = Job();
  job.content_path = dir_ + "/no_such_photo.jpg";
  ExpectFailure(job, StatusCode::kNotFound, {"content image", "no_such_photo.jpg"}, true);
}

TEST_F(StyleTransferErrors, MissingStyleImage) {
  StyleJob job = Job();
  job.style_paths = {dir_ + "/no_such_painting.png"};
  ExpectFailure(job, StatusCode::kNotFound, {"style image", "no_such_painting.png"}, true);
}

TEST_F(StyleTransferErrors, EmptyContentFile) {
  StyleJob job = Job();
  job.content_path = Write("empty.jpg", "");
  ExpectFailure(job, StatusCode::kCorrupt, {"content image", "empty.jpg", "empty"}, true);
}

TEST_F(StyleTransferErrors, TruncatedJpegStyle) {
  const std::string whole = ReadAll(SharedImagesDir() + "/style/starry_night.jpg");
  ASSERT_GT(whole.size(), 4000u);
  StyleJob job = Job();
  job.style_paths = {Write("cut.jpg", whole.substr(0, whole.size() / 3))};
  ExpectFailure(job, StatusCode::kCorrupt, {"style image", "cut.jpg", "truncated"});
}

TEST_F(StyleTransferErrors, TextFileNamedPng) {
  StyleJob job = Job();
  job.content_path = Write("notes.png", "these are my notes, not a picture\n");
  ExpectFailure(job, StatusCode::kCorrupt, {"content image", "notes.png", "not a JPEG or PNG"}, true);
}

TEST_F(StyleTransferErrors, AbsurdImageDimensions) {
  // A PNG signature and an IHDR claiming 100000 x 100000 pixels.
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\x0d", 4) + "IHDR";
  png += std::string("\x00\x01\x86\xa0\x00\x01\x86\xa0", 8);  // width, height = 100000
  png += std::string("\x08\x02\x00\x00\x00", 5) + std::string("\0\0\0\0", 4);
  png += std::string(64, '\0');
  StyleJob job = Job();
  job.style_paths = {Write("huge.png", png)};
  ExpectFailure(job, StatusCode::kInvalidArgument, {"style image", "huge.png", "100000"}, true);
}

TEST_F(StyleTransferErrors, WeightsFileMissing) {
  StyleJob job = Job();
  job.options.weights = dir_ + "/nowhere.safetensors";
  ExpectFailure(job, StatusCode::kNotFound, {"nowhere.safetensors"}, true);
}

TEST_F(StyleTransferErrors, WeightsFileTruncated) {
  const std::string whole = ReadAll(SharedModelsDir() + "/squeezenet_v1.0.safetensors");
  StyleJob job = Job();
  job.options.weights = Write("cut.safetensors", whole.substr(0, whole.size() / 2));
  ExpectFailure(job, StatusCode::kCorrupt, {"cut.safetensors"}, true);
}

TEST_F(StyleTransferErrors, WeightsFileGarbageHeader) {
  StyleJob job = Job();
  job.options.weights = WriteSafetensors("garbage.safetensors", "{this is not json at all", std::string(64, 'x'));
  ExpectFailure(job, StatusCode::kCorrupt, {"garbage.safetensors"}, true);
}

TEST_F(StyleTransferErrors, WeightsWithIntegerDtype) {
  // conv1 stored as I64: the layer table accepts the names and shapes, the
  // reader refuses to turn integers into weights.
  const std::uint64_t weight_bytes = 96 * 3 * 7 * 7 * 8, bias_bytes = 96 * 8;
  std::string header = "{\"conv1.weight\":{\"dtype\":\"I64\",\"shape\":[96,3,7,7],\"data_offsets\":[0," +
                       std::to_string(weight_bytes) + "]},\"conv1.bias\":{\"dtype\":\"I64\",\"shape\":[96]," +
                       "\"data_offsets\":[" + std::to_string(weight_bytes) + "," +
                       std::to_string(weight_bytes + bias_bytes) + "]}}";
  while (header.size() % 8 != 0) header += ' ';
  StyleJob job = Job();
  job.options.weights = WriteSafetensors("int.safetensors", header, std::string(weight_bytes + bias_bytes, '\0'));
  job.options.style_layers = {"relu1"};
  job.options.content_layers = {"relu1"};
  ExpectFailure(job, StatusCode::kCorrupt, {"int.safetensors", "conv1", "I64"});
}

TEST_F(StyleTransferErrors, WeightsWithWrongShape) {
  const int n = 96 * 3 * 5 * 5;
  StyleJob job = Job();
  job.options.weights = dir_ + "/shape.safetensors";
  ASSERT_TRUE(WriteSafetensorsF32(job.options.weights,
                                  {{"conv1.weight", {{96, 3, 5, 5}, std::vector<float>(n, 0.01f)}},
                                   {"conv1.bias", {{96}, std::vector<float>(96, 0.0f)}}},
                                  {})
                  .ok());
  job.options.style_layers = {"relu1"};
  job.options.content_layers = {"relu1"};
  ExpectFailure(job, StatusCode::kCorrupt, {"shape.safetensors", "conv1.weight", "[96,3,5,5]", "[96,3,7,7]"});
}

TEST_F(StyleTransferErrors, WeightsMissingTheTensorsOfAskedLayers) {
  // Only conv1: fire2 and deeper are not in the file.
  StyleJob job = Job();
  job.options.weights = dir_ + "/conv1_only.safetensors";
  ASSERT_TRUE(WriteSafetensorsF32(job.options.weights,
                                  {{"conv1.weight", {{96, 3, 7, 7}, std::vector<float>(96 * 3 * 49, 0.01f)}},
                                   {"conv1.bias", {{96}, std::vector<float>(96, 0.0f)}}},
                                  {})
                  .ok());
  job.options.style_layers = {"relu1", "fire2"};
  job.options.content_layers = {"relu1"};
  ExpectFailure(job, StatusCode::kInvalidArgument, {"fire2", "relu1"}, true);
}

TEST_F(StyleTransferErrors, UnknownLayerNameListsTheAvailableLayers) {
  StyleJob job = Job();
  job.options.style_layers = {"relu1", "fire99"};
  ExpectFailure(job, StatusCode::kInvalidArgument, {"fire99", "fire2", "fire9"}, true);
}

TEST_F(StyleTransferErrors, LayerTheFileLacksListsTheAvailableLayers) {
  StyleJob job = Job();
  job.options.backbone = "vgg19";
  job.options.style_layers = {"relu1_1", "relu4_1"};
  job.options.content_layers = {"relu3_2"};
  ExpectFailure(job, StatusCode::kInvalidArgument, {"relu4_1", "relu3_1", "vgg19_conv1_1-conv3_4.safetensors"}, true);
}

TEST_F(StyleTransferErrors, OverflowingLossIsNumericalError) {
  StyleJob job = Job();
  job.options.content_weight = 1e308;  // float32 losses overflow to Inf at once
  job.options.init = "noise";
  ExpectFailure(job, StatusCode::kNumericalError, {"NaN/Inf"});
}

TEST_F(StyleTransferErrors, HugeWeightsAreNumericalError) {
  // A valid file whose conv1 weights are enormous: features of ~1e30
  // overflow the float32 Gram matrices.
  StyleJob job = Job();
  job.options.weights = dir_ + "/huge.safetensors";
  ASSERT_TRUE(WriteSafetensorsF32(job.options.weights,
                                  {{"conv1.weight", {{96, 3, 7, 7}, std::vector<float>(96 * 3 * 49, 1e30f)}},
                                   {"conv1.bias", {{96}, std::vector<float>(96, 0.0f)}}},
                                  {})
                  .ok());
  job.options.style_layers = {"relu1"};
  job.options.content_layers = {"relu1"};
  ExpectFailure(job, StatusCode::kNumericalError, {"NaN/Inf"});
}

TEST_F(StyleTransferErrors, CudaOnACpuOnlyMachineIsUnavailable) {
  if (CudaAvailable()) GTEST_SKIP() << "this machine has CUDA; the GPU test covers it";
  StyleJob job = Job();
  job.options.device = "cuda";
  ExpectFailure(job, StatusCode::kUnavailable, {"cuda", "--device cpu"});
}

TEST_F(StyleTransferErrors, UnknownDeviceIsInvalidArgument) {
  StyleJob job = Job();
  job.options.device = "tpu";
  ExpectFailure(job, StatusCode::kInvalidArgument, {"tpu"});
}

TEST_F(StyleTransferErrors, UnknownBackbone) {
  StyleJob job = Job();
  job.options.backbone = "resnet50";
  ExpectFailure(job, StatusCode::kInvalidArgument, {"resnet50", "vgg19", "squeezenet1_0"}, true);
}

TEST_F(StyleTransferErrors, NoStyleImage) {
  StyleJob job = Job();
  job.style_paths.clear();
  ExpectFailure(job, StatusCode::kInvalidArgument, {"style image"}, true);
}

}  // namespace
}  // namespace stylesweep
