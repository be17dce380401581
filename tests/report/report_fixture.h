// A small store for report tests: 6 runs of a sweep over style_layers (2
// values) x alpha_beta (3 values), one of them FAILED, with per-iteration
// losses, timings, final images and content/style images on disk.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/image_io.h"
#include "store/run_store.h"

#include "tests/temp_dir.h"

namespace stylesweep::testing {

// A width x height picture: a colour gradient seeded by `seed`.
inline Image GradientImage(int width, int height, int seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(image.num_samples());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at(y, x, 0) = static_cast<float>(x) / width;
      image.at(y, x, 1) = static_cast<float>((y + seed * 17) % height) / height;
      image.at(y, x, 2) = 0.5f + 0.5f * std::sin(0.2f * (x + y) + seed);
    }
  }
  return image;
}

inline std::string PngBytes(const Image& image) {
  auto png = EncodePng(image);
  EXPECT_TRUE(png.ok()) << png.status().ToString();
  return png.ok() ? std::string(png->begin(), png->end()) : std::string();
}

inline constexpr const char* kFixtureExperiment = "fixture";
inline constexpr const char* kFixtureError = "CUDA out of memory </script><b>not markup</b>";
inline constexpr int kFixtureRuns = 6;
inline constexpr int kFixtureIterations = 60;

inline const char* kFixtureSweep = R"(name: fixture
parameters:
  style_layers:
    values: [[relu1_1], [relu1_1, relu2_1]]
  alpha_beta:
    values: [1e-4, 1e-3, 1e-2]
)";

// Writes the fixture store into `dir` (store at dir/store, images in dir).
// Returns the store, open for writing.
inline std::unique_ptr<RunStore> WriteFixtureStore(const std::string& dir) {
  const std::string content = dir + "/tubingen.png", style = dir + "/starry_night.png";
  EXPECT_TRUE(SavePng(GradientImage(120, 90, 1), content).ok());
  EXPECT_TRUE(SavePng(GradientImage(90, 120, 2), style).ok());
  auto opened = RunStore::Open(dir + "/store");
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return nullptr;
  std::unique_ptr<RunStore> store = std::move(opened).value();
  auto experiment = store->CreateOrGetExperiment(kFixtureExperiment, kFixtureSweep, "sweephash", "test");
  EXPECT_TRUE(experiment.ok());
  const ParamValue layer_sets[] = {ParamValue::List({ParamValue::String("relu1_1")}),
                                   ParamValue::List({ParamValue::String("relu1_1"), ParamValue::String("relu2_1")})};
  const double ratios[] = {1e-4, 1e-3, 1e-2};
  int index = 0;
  for (const ParamValue& layers : layer_sets) {
    for (double ratio : ratios) {
      Params params = {{"style_layers", layers},
                       {"alpha_beta", ParamValue::Number(ratio)},
                       {"content_weight", ParamValue::Number(ratio * 1000)},
                       {"style_weight", ParamValue::Number(1000)},
                       {"size", ParamValue::Number(128)},
                       {"content", ParamValue::String(content)},
                       {"style", ParamValue::List({ParamValue::String(style)})}};
      auto id = store->EnsureRun(*experiment, "hash" + std::to_string(index), params);
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      EXPECT_TRUE(store->StartRun(*id, "node1", 1, "cpu").ok());
      RunResult result;
      const bool fails = index == 4;
      const int iterations = fails ? kFixtureIterations / 3 : kFixtureIterations;
      for (int step = 0; step < iterations; ++step) {
        const double decay = std::exp(-0.08 * step) + 0.01 * (index + 1);
        result.metrics.push_back({"content_loss", step, 1e4 * ratio * 100 * decay, 1000.0 + step});
        result.metrics.push_back({"style_loss", step, 1e6 * decay * (1 + index), 1000.0 + step});
        result.metrics.push_back({"tv_loss", step, 0.0, 1000.0 + step});
        result.metrics.push_back({"total_loss", step, 1e6 * decay * (1 + index) + 1e4 * ratio * 100 * decay, 1000.0 + step});
      }
      result.timings = {{"load", 0.05}, {"targets", 0.2}, {"optimize", 0.03 * iterations * (1 + index % 2)}, {"save", 0.01}};
      // The job took as long as its phases (timings are what the page shows
      // as seconds per job).
      double seconds = 0;
      for (const PhaseTiming& timing : result.timings) seconds += timing.seconds;
      auto started = store->GetRun(*id);
      EXPECT_TRUE(started.ok());
      if (started.ok() && started->start_time.has_value()) result.end_time = *started->start_time + seconds;
      if (fails) {
        result.status = RunStatus::kFailed;
        result.error_message = kFixtureError;
      } else {
        ArtifactInput artifact;
        artifact.kind = ArtifactKind::kFinal;
        artifact.step = iterations - 1;
        artifact.bytes = PngBytes(GradientImage(128, 96, 10 + index));
        artifact.width = 128;
        artifact.height = 96;
        result.artifacts.push_back(artifact);
        // The judge's scores: runs 0, 1 and 2 trade style against content
        // (the Pareto front); 3 is beaten by 0 and 5 by 2.
        const double style_distance[] = {0.30, 0.25, 0.20, 0.35, 0, 0.22};
        const double content_distance[] = {0.50, 0.60, 0.80, 0.55, 0, 0.90};
        const int64_t last = iterations - 1;
        result.metrics.push_back({"eval/style_distance", last, style_distance[index], 1000.0 + last});
        result.metrics.push_back({"eval/content_distance", last, content_distance[index], 1000.0 + last});
        result.metrics.push_back({"eval/ssim", last, 0.9 - content_distance[index] / 2, 1000.0 + last});
        result.metrics.push_back({"eval/color_distance", last, 0.1 * (index + 1), 1000.0 + last});
        result.metrics.push_back({"eval/judge_id", last, 7, 1000.0 + last});
      }
      EXPECT_TRUE(store->RecordRunResult(*id, result).ok());
      ++index;
    }
  }
  return store;
}

}  // namespace stylesweep::testing
