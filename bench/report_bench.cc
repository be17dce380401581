// `stylesweep report` over a sweep of 1,000 runs: time to build the page and
// its size. The fixture is built once and cached under the build folder
// (REPORT_BENCH_FIXTURE_DIR): 1,000 FINISHED runs (5 style-layer sets x 4
// alpha/beta x 5 content x 10 style images), each with 500 iterations of the
// four losses, four phase timings and a 512 x 384 PNG final image with
// photo-like noise (so thumbnails compress like real results, not like flat
// gradients).
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>

#include "engine/image_io.h"
#include "store/report.h"
#include "store/run_store.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

constexpr int kIterations = 500;
constexpr const char* kExperiment = "bench1000";

Image NoisyImage(int width, int height, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> noise(0.0f, 0.08f);
  Image image;
  image.width = width;
  image.height = height;
  image.pixels.resize(image.num_samples());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        image.at(y, x, c) = 0.5f + 0.3f * std::sin(0.03f * (x + 2 * y) + seed + c) + noise(random);
      }
    }
  }
  return image;
}

Status BuildFixture(const std::string& dir) {
  if (fs::exists(dir + "/store/store.db")) return Status::Ok();
  fs::remove_all(dir);
  fs::create_directories(dir + "/images");
  std::vector<std::string> contents, styles;
  for (int i = 0; i < 5; ++i) {
    contents.push_back(dir + "/images/content" + std::to_string(i) + ".png");
    SS_RETURN_IF_ERROR(SavePng(NoisyImage(512, 384, 100 + i), contents.back()));
  }
  for (int i = 0; i < 10; ++i) {
    styles.push_back(dir + "/images/style" + std::to_string(i) + ".png");
    SS_RETURN_IF_ERROR(SavePng(NoisyImage(512, 512, 200 + i), styles.back()));
  }
  SS_ASSIGN_OR_RETURN(auto store, RunStore::Open(dir + "/store"));
  const char* sweep = "parameters:\n  style_layers: {values: [[a], [a,b], [a,b,c], [a,b,c,d], [a,b,c,d,e]]}\n"
                      "  alpha_beta: {values: [1e-5, 1e-4, 1e-3, 1e-2]}\n";
  SS_ASSIGN_OR_RETURN(int64_t experiment, store->CreateOrGetExperiment(kExperiment, sweep, "h", "bench"));
  const std::vector<std::string> layers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
  int index = 0;
  for (int l = 1; l <= 5; ++l) {
    for (double ratio : {1e-5, 1e-4, 1e-3, 1e-2}) {
      for (const std::string& content : contents) {
        for (const std::string& style : styles) {
          std::vector<ParamValue> chosen;
          for (int k = 0; k < l; ++k) chosen.push_back(ParamValue::String(layers[k]));
          Params params = {{"style_layers", ParamValue::List(chosen)},
                           {"alpha_beta", ParamValue::Number(ratio)},
                           {"content_weight", ParamValue::Number(ratio * 1e3)},
                           {"style_weight", ParamValue::Number(1e3)},
                           {"content", ParamValue::String(content)},
                           {"style", ParamValue::List({ParamValue::String(style)})}};
          SS_ASSIGN_OR_RETURN(int64_t id, store->EnsureRun(experiment, "run" + std::to_string(index), params));
          SS_RETURN_IF_ERROR(store->StartRun(id, "node", 1, "cpu"));
          RunResult result;
          for (int step = 0; step < kIterations; ++step) {
            const double decay = std::exp(-0.01 * step) + 0.001 * (1 + index % 37);
            for (const char* key : {"total_loss", "content_loss", "style_loss", "tv_loss"}) {
              result.metrics.push_back({key, step, 1e6 * decay * (1 + index % 11), 1.7e9 + step});
            }
          }
          result.timings = {{"load", 0.1}, {"targets", 0.4}, {"optimize", 0.05 * kIterations}, {"save", 0.02}};
          ArtifactInput artifact;
          artifact.step = kIterations - 1;
          SS_ASSIGN_OR_RETURN(auto png, EncodePng(NoisyImage(512, 384, index)));
          artifact.bytes.assign(png.begin(), png.end());
          artifact.width = 512;
          artifact.height = 384;
          result.artifacts.push_back(std::move(artifact));
          SS_RETURN_IF_ERROR(store->RecordRunResult(id, result));
          ++index;
        }
      }
    }
  }
  return Status::Ok();
}

void BM_Report1000Runs(benchmark::State& state) {
  const std::string dir = REPORT_BENCH_FIXTURE_DIR;
  if (Status built = BuildFixture(dir); !built.ok()) return state.SkipWithError(built.ToString().c_str());
  StoreOptions read_only;
  read_only.mode = OpenMode::kReadOnly;
  auto store = RunStore::Open(dir + "/store", read_only);
  if (!store.ok()) return state.SkipWithError(store.status().ToString().c_str());
  ReportOptions options;
  options.experiment = kExperiment;
  options.output_path = dir + "/store/report.html";
  options.max_thumbnails = static_cast<int>(state.range(0));
  ReportSummary summary;
  for (auto _ : state) {
    auto written = WriteReport(store->get(), options);
    if (!written.ok()) return state.SkipWithError(written.status().ToString().c_str());
    summary = *written;
  }
  state.counters["runs"] = static_cast<double>(summary.runs);
  state.counters["thumbnails"] = static_cast<double>(summary.thumbnails);
  state.counters["MiB"] = static_cast<double>(summary.bytes) / (1024.0 * 1024.0);
}
BENCHMARK(BM_Report1000Runs)->Arg(400)->Arg(1000)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace stylesweep

BENCHMARK_MAIN();
