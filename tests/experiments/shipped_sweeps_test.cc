// The sweep files shipped in experiments/sweeps parse and expand against the
// shared assets folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/shared_dir.h"
#include "experiments/sweep.h"
#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::ScratchDir;
using testing::WriteText;

std::string SweepFile(const std::string& name) { return std::string(STYLESWEEP_SWEEPS_DIR) + "/" + name; }

// A fake mirroring the shared weights files: squeezenet_v1.0 (relu1,
// fire2..fire9) and the VGG19 prefix (up to relu3_4, the vgg19 default);
// any other VGG19 file counts as complete. The real checker is exercised in
// backbone_layer_checker_test.cc.
LayerChecker SharedWeightsChecker() {
  return [](const StyleOptions& o, const std::string& models_dir) -> Result<CheckedLayers> {
    CheckedLayers checked;
    std::vector<std::string> available;
    if (o.backbone == "squeezenet1_0") {
      checked.weights_path = o.weights.empty() ? models_dir + "/squeezenet_v1.0.safetensors" : o.weights;
      available = {"relu1", "fire2", "fire3", "fire4", "fire5", "fire6", "fire7", "fire8", "fire9"};
    } else {
      checked.weights_path = o.weights.empty() ? models_dir + "/vgg19_conv1_1-conv3_4.safetensors" : o.weights;
      available = {"relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2", "relu3_3", "relu3_4"};
      if (checked.weights_path.find("conv3_4") == std::string::npos) {
        for (const char* deep : {"relu4_1", "relu4_2", "relu4_3", "relu4_4", "relu5_1"}) available.push_back(deep);
      }
    }
    for (const auto* list : {&o.content_layers, &o.style_layers}) {
      for (const auto& layer : *list) {
        if (std::find(available.begin(), available.end(), layer) == available.end()) {
          return Status::InvalidArgument("layer '" + layer + "' is not in " + checked.weights_path);
        }
      }
    }
    checked.content_layers = o.content_layers.empty() ? std::vector<std::string>{available[3]} : o.content_layers;
    checked.style_layers = o.style_layers.empty() ? std::vector<std::string>{available[0]} : o.style_layers;
    return checked;
  };
}

Result<std::vector<JobSpec>> ExpandShipped(const std::string& name, const std::vector<std::string>& overrides = {}) {
  SS_ASSIGN_OR_RETURN(SweepSpec spec, LoadSweepFile(SweepFile(name), overrides));
  ExpandContext context;
  context.layer_checker = SharedWeightsChecker();
  return ExpandSweep(spec, context);
}

TEST(ShippedSweeps, QuickstartIsEightSmallSqueezeNetRuns) {
  Result<std::vector<JobSpec>> jobs = ExpandShipped("quickstart.yaml");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 8u);
  double total_cost = 0;
  for (const auto& job : *jobs) {
    EXPECT_EQ(job.options.backbone, "squeezenet1_0");
    EXPECT_EQ(job.options.device, "cpu");
    EXPECT_LE(job.options.size, 160);
    EXPECT_LE(job.options.num_iterations, 100);
    EXPECT_EQ(job.options.stop_tolerance, 0) << "the quickstart runs its fixed iteration count";
    total_cost += job.cost;
  }
  // Small enough for a few minutes on 2 cores: under 16 Mpx-iterations in all.
  EXPECT_LT(total_cost, 16e6);
}

TEST(ShippedSweeps, GatysFig3RefusesTheVgg19PrefixAndIsTwentyRunsOnFullWeights) {
  Result<std::vector<JobSpec>> without = ExpandShipped("gatys2015_fig3.yaml");
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("relu4_2"), std::string::npos) << without.status().message();

  ScratchDir dir;
  WriteText(dir / "vgg19.safetensors", "stand-in for a complete VGG19");
  Result<std::vector<JobSpec>> jobs = ExpandShipped("gatys2015_fig3.yaml", {"weights=" + (dir / "vgg19.safetensors")});
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 20u);
  std::set<size_t> rows;
  std::set<std::string> columns;
  for (const auto& job : *jobs) {
    EXPECT_EQ(job.options.content_layers, (std::vector<std::string>{"relu4_2"}));
    EXPECT_EQ(job.options.pooling, "avg");
    EXPECT_EQ(job.options.size, 512);
    EXPECT_EQ(job.options.num_iterations, 500);
    EXPECT_EQ(std::filesystem::path(job.content_path).filename(), "tubingen.jpg");
    EXPECT_EQ(std::filesystem::path(job.style_paths.at(0)).filename(), "composition_vii.jpg");
    EXPECT_EQ(job.options.style_layers.front(), "relu1_1");
    rows.insert(job.options.style_layers.size());
    columns.insert(GetStyleOption(job.options, "alpha_beta"));
  }
  EXPECT_EQ(rows, (std::set<size_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(columns, (std::set<std::string>{"1e-05", "0.0001", "0.001", "0.01"}));
}

TEST(ShippedSweeps, GatysFig3PrefixStaysWithinTheShippedVgg19Prefix) {
  Result<std::vector<JobSpec>> jobs = ExpandShipped("gatys2015_fig3_prefix.yaml");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 12u);
  EXPECT_EQ(std::filesystem::path((*jobs)[0].options.weights).filename(), "vgg19_conv1_1-conv3_4.safetensors");
  EXPECT_EQ((*jobs)[0].options.content_layers, (std::vector<std::string>{"relu3_2"}));
}

TEST(ShippedSweeps, SqueezeNetStyleLayerAblation) {
  Result<std::vector<JobSpec>> jobs = ExpandShipped("squeezenet_style_layers.yaml");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  std::set<std::string> layer_sets;
  for (const auto& job : *jobs) layer_sets.insert(GetStyleOption(job.options, "style_layers"));
  EXPECT_EQ(layer_sets.size(), 6u);
  EXPECT_EQ(jobs->size(), 12u);
}

TEST(ShippedSweeps, DatasetCoversTheContentFolderWithOneFilePerImage) {
  Result<SweepSpec> spec = LoadSweepFile(SweepFile("dataset.yaml"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->output.dataset_dir, "stylized_wave");
  Result<std::vector<JobSpec>> jobs = ExpandShipped("dataset.yaml");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  size_t images = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SharedImagesDir() + "/content")) {
    images += entry.path().extension() == ".jpg" || entry.path().extension() == ".png";
  }
  ASSERT_EQ(jobs->size(), images);
  std::set<std::string> names;
  for (const auto& job : *jobs) {
    names.insert(job.output_name);
    EXPECT_EQ(job.output_name, std::filesystem::path(job.content_path).stem().string());
    EXPECT_GT(job.options.stop_tolerance, 0) << "the dataset preset stops each picture when it is done";
  }
  EXPECT_EQ(names.size(), images);
}

TEST(ShippedSweeps, ExpandTheSameFromAnyWorkingDirectory) {
  Result<std::vector<JobSpec>> here = ExpandShipped("quickstart.yaml");
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::temp_directory_path());
  Result<std::vector<JobSpec>> elsewhere = ExpandShipped("quickstart.yaml");
  std::filesystem::current_path(previous);
  ASSERT_TRUE(here.ok() && elsewhere.ok());
  for (size_t i = 0; i < here->size(); ++i) EXPECT_EQ((*here)[i].job_key, (*elsewhere)[i].job_key);
}

}  // namespace
}  // namespace stylesweep
