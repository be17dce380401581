// Test helpers for the sweep language: a scratch folder with tiny images and
// a fake LayerChecker that needs no real weights file.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "experiments/sweep.h"

namespace stylesweep::testing {

// A fresh folder under the system temp dir, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() / ("stylesweep_experiments_" + std::to_string(device()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes a PNG signature and IHDR header of width x height (enough for
// ProbeImage) followed by `salt`, so that files with different salts hash
// differently.
inline void WriteTinyPng(const std::string& path, int width, int height, const std::string& salt = "") {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  out.write(reinterpret_cast<const char*>(signature), 8);
  const unsigned char length[4] = {0, 0, 0, 13};
  out.write(reinterpret_cast<const char*>(length), 4);
  out.write("IHDR", 4);
  for (int value : {width, height}) {
    const unsigned char bytes[4] = {static_cast<unsigned char>(value >> 24), static_cast<unsigned char>(value >> 16),
                                    static_cast<unsigned char>(value >> 8), static_cast<unsigned char>(value)};
    out.write(reinterpret_cast<const char*>(bytes), 4);
  }
  const unsigned char rest[5] = {8, 2, 0, 0, 0};
  out.write(reinterpret_cast<const char*>(rest), 5);
  out << salt;
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Accepts the layers of a small VGG-like table; the weights file is
// options.weights or <models_dir>/fake_<backbone>.safetensors and must exist.
// Counts its calls.
struct FakeLayerChecker {
  std::vector<std::string> available = {"relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2",
                                        "relu4_1", "relu4_2", "relu5_1", "fire2",   "fire3",   "fire5"};
  std::shared_ptr<int> calls = std::make_shared<int>(0);

  LayerChecker AsChecker() const {
    auto table = available;
    auto counter = calls;
    return [table, counter](const StyleOptions& o, const std::string& models_dir) -> Result<CheckedLayers> {
      ++*counter;
      CheckedLayers checked;
      checked.weights_path = o.weights.empty() ? models_dir + "/fake_" + o.backbone + ".safetensors" : o.weights;
      if (!std::filesystem::exists(checked.weights_path)) {
        return Status::NotFound(checked.weights_path + ": no such weights file");
      }
      for (const auto* list : {&o.content_layers, &o.style_layers}) {
        for (const auto& layer : *list) {
          if (std::find(table.begin(), table.end(), layer) == table.end()) {
            return Status::InvalidArgument("layer '" + layer + "' is not available in " + checked.weights_path);
          }
        }
      }
      checked.content_layers = o.content_layers.empty() ? std::vector<std::string>{"relu4_2"} : o.content_layers;
      checked.style_layers = o.style_layers.empty() ? std::vector<std::string>{"relu1_1", "relu2_1"} : o.style_layers;
      return checked;
    };
  }
};

// A scratch folder with content/{a,b}.png, style/{s1,s2}.png and
// models/fake_vgg19.safetensors, and an ExpandContext pointing at it.
class SweepFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteTinyPng(dir_ / "content/a.png", 400, 300, "a");
    WriteTinyPng(dir_ / "content/b.png", 300, 600, "b");
    WriteTinyPng(dir_ / "style/s1.png", 256, 256, "s1");
    WriteTinyPng(dir_ / "style/s2.png", 256, 256, "s2");
    WriteText(dir_ / "models/fake_vgg19.safetensors", "vgg19 weights");
    WriteText(dir_ / "models/fake_squeezenet1_0.safetensors", "squeezenet weights");
    context_.shared_dir = dir_.path();
    context_.models_dir = dir_ / "models";
    context_.layer_checker = checker_.AsChecker();
  }

  // Parses `yaml` as if it were the file <scratch>/sweep.yaml.
  Result<SweepSpec> Parse(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    return ParseSweep(yaml, dir_ / "sweep.yaml", overrides);
  }

  Result<std::vector<JobSpec>> Expand(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    Result<SweepSpec> spec = Parse(yaml, overrides);
    if (!spec.ok()) return spec.status();
    return ExpandSweep(*spec, context_);
  }

  ScratchDir dir_;
  FakeLayerChecker checker_;
  ExpandContext context_;
};

// The header every test sweep starts with: 2 content x 1 style.
inline constexpr const char* kMinimalSweep =
    "name: t\n"
    "content: [content/a.png, content/b.png]\n"
    "style: style/s1.png\n";

}  // namespace stylesweep::testing
