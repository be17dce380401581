// BackboneLayerChecker against the real weights files in the shared folder,
// and the shipped sweeps expanded with it (what `stylesweep plan` does).
#include <gtest/gtest.h>

#include "common/shared_dir.h"
#include "experiments/sweep.h"

namespace stylesweep {
namespace {

TEST(BackboneLayerChecker, ResolvesDefaultsFromTheSharedWeights) {
  StyleOptions options;
  options.backbone = "squeezenet1_0";
  Result<CheckedLayers> checked = BackboneLayerChecker()(options, SharedModelsDir());
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_EQ(checked->weights_path, SharedModelsDir() + "/squeezenet_v1.0.safetensors");
  EXPECT_FALSE(checked->style_layers.empty());
  EXPECT_FALSE(checked->content_layers.empty());
}

TEST(BackboneLayerChecker, RejectsLayersTheWeightsFileLacks) {
  StyleOptions options;
  options.backbone = "vgg19";
  options.weights = SharedModelsDir() + "/vgg19_conv1_1-conv3_4.safetensors";
  options.content_layers = {"relu4_2"};
  Result<CheckedLayers> checked = BackboneLayerChecker()(options, SharedModelsDir());
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.status().message().find("relu4_2"), std::string::npos) << checked.status().message();
  // ... and says how to get it.
  EXPECT_NE(checked.status().message().find("docs/CONVERTING_WEIGHTS.md"), std::string::npos)
      << checked.status().message();
  options.content_layers = {"relu3_2"};
  options.style_layers = {"relu1_1", "relu9_9"};
  checked = BackboneLayerChecker()(options, SharedModelsDir());
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.status().message().find("relu9_9"), std::string::npos) << checked.status().message();
}

TEST(BackboneLayerChecker, AMissingWeightsFileSaysHowToGetOne) {
  StyleOptions options;
  options.backbone = "vgg19";
  options.weights = "vgg19.safetensors";  // README's example, before converting
  Result<CheckedLayers> checked = BackboneLayerChecker()(options, SharedModelsDir());
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.status().code(), StatusCode::kNotFound);
  EXPECT_NE(checked.status().message().find("vgg19.safetensors does not exist; check the path"), std::string::npos)
      << checked.status().message();
  EXPECT_NE(checked.status().message().find("scripts/convert_vgg19.py"), std::string::npos)
      << checked.status().message();
}

TEST(BackboneLayerChecker, ShippedSweepsExpandAgainstTheRealWeights) {
  for (const char* name : {"quickstart.yaml", "gatys2015_fig3_prefix.yaml", "squeezenet_style_layers.yaml",
                           "dataset.yaml"}) {
    Result<SweepSpec> spec = LoadSweepFile(std::string(STYLESWEEP_SWEEPS_DIR) + "/" + name);
    ASSERT_TRUE(spec.ok()) << name << ": " << spec.status().ToString();
    ExpandContext context;
    context.layer_checker = BackboneLayerChecker();
    Result<std::vector<JobSpec>> jobs = ExpandSweep(*spec, context);
    EXPECT_TRUE(jobs.ok()) << name << ": " << jobs.status().ToString();
  }
  // Fig. 3 proper asks for relu4_2 and relu5_1, which the shipped prefix lacks.
  Result<SweepSpec> fig3 = LoadSweepFile(std::string(STYLESWEEP_SWEEPS_DIR) + "/gatys2015_fig3.yaml");
  ASSERT_TRUE(fig3.ok()) << fig3.status().ToString();
  ExpandContext context;
  context.layer_checker = BackboneLayerChecker();
  Result<std::vector<JobSpec>> jobs = ExpandSweep(*fig3, context);
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.status().message().find("relu4_2"), std::string::npos) << jobs.status().message();
}

}  // namespace
}  // namespace stylesweep
