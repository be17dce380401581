#include <gtest/gtest.h>

#include <regex>

#include "experiments/sweep.h"
#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::kMinimalSweep;

Result<SweepSpec> ParseText(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return ParseSweep(yaml, "/sweeps/s.yaml", overrides);
}

// The error message of parsing `yaml`, which must fail.
std::string ErrorOf(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  Result<SweepSpec> spec = ParseText(yaml, overrides);
  EXPECT_FALSE(spec.ok()) << "expected an error for:\n" << yaml;
  if (spec.ok()) return "";
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  return spec.status().message();
}

const ParameterSpec* FindParameter(const SweepSpec& spec, const std::string& key) {
  for (const auto& p : spec.parameters) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

TEST(ParseSweep, ReadsEveryKey) {
  Result<SweepSpec> spec = ParseText(
      "name: full\n"
      "description: all keys\n"
      "method: random\n"
      "count: 7\n"
      "seed: 42\n"
      "content: [a.png, 'photos/*.jpg']\n"
      "style:\n"
      "  - s1.png\n"
      "  - [s1.png, s2.png]\n"
      "base: {backbone: squeezenet1_0, size: 128}\n"
      "parameters:\n"
      "  style_weight: {distribution: log_uniform, min: 1e2, max: 1e5}\n"
      "  num_iterations: {distribution: int_uniform, min: 10, max: 20}\n"
      "  init: {values: [content, noise]}\n"
      "  style_layers: {values: [[relu1_1], [relu1_1, relu2_1]]}\n"
      "  tv_weight: {value: 0.5}\n"
      "zip: [[init, style_layers]]\n"
      "repeats: 3\n"
      "output: {dataset: out/ds, name: '{content}'}\n"
      "metric: {name: style_loss, goal: maximize, top: 2}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "full");
  EXPECT_EQ(spec->method, SweepMethod::kRandom);
  EXPECT_EQ(spec->count, 7);
  EXPECT_EQ(spec->seed, 42u);
  EXPECT_EQ(spec->base_dir, "/sweeps");
  EXPECT_EQ(spec->content, (std::vector<std::string>{"a.png", "photos/*.jpg"}));
  ASSERT_EQ(spec->style.size(), 2u);
  EXPECT_FALSE(spec->style[0].blend);
  EXPECT_TRUE(spec->style[1].blend);
  EXPECT_EQ(spec->style[1].patterns, (std::vector<std::string>{"s1.png", "s2.png"}));
  EXPECT_EQ(spec->base, (std::vector<std::pair<std::string, std::string>>{{"backbone", "squeezenet1_0"}, {"size", "128"}}));
  ASSERT_EQ(spec->parameters.size(), 5u);
  EXPECT_EQ(spec->parameters[0].distribution, Distribution::kLogUniform);
  EXPECT_EQ(spec->parameters[0].min, 1e2);
  EXPECT_EQ(spec->parameters[0].max, 1e5);
  EXPECT_EQ(spec->parameters[3].values, (std::vector<std::string>{"relu1_1", "relu1_1,relu2_1"}));
  EXPECT_EQ(spec->parameters[4].values, (std::vector<std::string>{"0.5"}));
  EXPECT_EQ(spec->parameters[3].mark.line, 15);
  EXPECT_EQ(spec->zip, (std::vector<std::vector<std::string>>{{"init", "style_layers"}}));
  EXPECT_EQ(spec->repeats, 3);
  EXPECT_EQ(spec->output.dataset_dir, "out/ds");
  EXPECT_EQ(spec->output.name_pattern, "{content}");
  EXPECT_EQ(spec->metric.name, "style_loss");
  EXPECT_FALSE(spec->metric.minimize);
  EXPECT_EQ(spec->metric.top, 2);
}

TEST(ParseSweep, DevicesPerJobFromTheFileOrAnOverride) {
  Result<SweepSpec> plain = ParseText(kMinimalSweep);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->devices_per_job, 1);
  Result<SweepSpec> file = ParseText(std::string(kMinimalSweep) + "devices_per_job: 4\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->devices_per_job, 4);
  Result<SweepSpec> overridden = ParseText(std::string(kMinimalSweep) + "devices_per_job: 4\n", {"devices_per_job=2"});
  ASSERT_TRUE(overridden.ok()) << overridden.status().ToString();
  EXPECT_EQ(overridden->devices_per_job, 2);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "devices_per_job: 0\n").find("devices_per_job"), std::string::npos);
  EXPECT_NE(ErrorOf(kMinimalSweep, {"devices_per_job=65"}).find("at most 64 devices per job"), std::string::npos);
}

TEST(ParseSweep, BandsAcrossNodesFromTheFileOrAnOverride) {
  Result<SweepSpec> plain = ParseText(kMinimalSweep);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->bands_across_nodes);
  Result<SweepSpec> file = ParseText(std::string(kMinimalSweep) + "bands_across_nodes: true\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->bands_across_nodes);
  Result<SweepSpec> overridden =
      ParseText(std::string(kMinimalSweep) + "bands_across_nodes: true\n", {"bands_across_nodes=false"});
  ASSERT_TRUE(overridden.ok()) << overridden.status().ToString();
  EXPECT_FALSE(overridden->bands_across_nodes);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "bands_across_nodes: yes please\n")
                .find("bands_across_nodes must be true or false, not 'yes please'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(kMinimalSweep, {"bands_across_nodes=1"}).find("bands_across_nodes must be true or false"),
            std::string::npos);
}

TEST(ParseSweep, OutputFormatShardsAndNestedNames) {
  Result<SweepSpec> plain = ParseText(std::string(kMinimalSweep) + "output: {dataset: out}\n");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->output.format, "folder");
  EXPECT_EQ(plain->output.shard_size, 1000);
  EXPECT_FALSE(plain->output.include_content);
  Result<SweepSpec> shards = ParseText(std::string(kMinimalSweep) +
                                       "output: {dataset: out, format: webdataset, shard_size: 50, include_content: true}\n");
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  EXPECT_EQ(shards->output.format, "webdataset");
  EXPECT_EQ(shards->output.shard_size, 50);
  EXPECT_TRUE(shards->output.include_content);
  Result<SweepSpec> nested = ParseText(std::string(kMinimalSweep) + "output: {dataset: out, name: '{style}/{content}'}\n");
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  EXPECT_EQ(nested->output.name_pattern, "{style}/{content}");

  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "output: {dataset: out, format: tar}\n")
                .find("output.format must be folder or webdataset, not 'tar'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "output: {dataset: out, shard_size: 10}\n")
                .find("webdataset only"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "output: {dataset: out, format: webdataset, shard_size: 0}\n")
                .find("shard_size"),
            std::string::npos);
  for (const char* bad : {"/{content}", "../{content}", "{style}//{content}", "{style}/"}) {
    EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "output: {dataset: out, name: '" + bad + "'}\n")
                  .find("must be a relative path inside output.dataset"),
              std::string::npos)
        << bad;
  }
}

TEST(ParseSweep, YamlSyntaxErrorsGiveFileLineAndColumn) {
  std::string message = ErrorOf("name: t\ncontent: a.png\nstyle: [s.png\nbase: {size: 1}\n");
  EXPECT_TRUE(std::regex_search(message, std::regex("^/sweeps/s\\.yaml:[34]:[0-9]+: "))) << message;
  message = ErrorOf("name: t\ncontent: a.png\n  style: s.png\n");
  EXPECT_TRUE(std::regex_search(message, std::regex("^/sweeps/s\\.yaml:3:[0-9]+: "))) << message;
  // The message says that the file is not YAML, not only what yaml-cpp missed.
  EXPECT_NE(message.find(": not valid YAML: "), std::string::npos) << message;
}

TEST(ParseSweep, UnknownTopLevelKeyNamesTheClosestAndItsPosition) {
  std::string message = ErrorOf(std::string(kMinimalSweep) + "methd: grid\n");
  EXPECT_NE(message.find("/sweeps/s.yaml:4:1:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'methd'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'method'"), std::string::npos) << message;
}

TEST(ParseSweep, EngineSettingAtTopLevelSaysWhereItBelongs) {
  std::string message = ErrorOf(std::string(kMinimalSweep) + "size: 256\n");
  EXPECT_NE(message.find("put it under base:"), std::string::npos) << message;
}

TEST(ParseSweep, MisspelledEngineSettingAtTopLevelNamesTheSetting) {
  // style_wieght is closer to the setting style_weight than to the key style.
  std::string message = ErrorOf(std::string(kMinimalSweep) + "style_wieght: 3\n");
  EXPECT_NE(message.find("unknown key 'style_wieght'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean the engine setting 'style_weight'?"), std::string::npos) << message;
  EXPECT_NE(message.find("put it under base:"), std::string::npos) << message;
}

TEST(ParseSweep, UnknownSettingsSuggestTheClosestStyleOption) {
  std::string message = ErrorOf(std::string(kMinimalSweep) + "parameters:\n  style_wieght: {values: [1, 2]}\n");
  EXPECT_NE(message.find(":5:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'style_weight'"), std::string::npos) << message;
  message = ErrorOf(std::string(kMinimalSweep) + "base:\n  iterations: 10\n");
  EXPECT_NE(message.find("did you mean 'num_iterations'"), std::string::npos) << message;
}

TEST(ParseSweep, UnknownKeyInsideAParameterSuggestsTheClosest) {
  std::string message = ErrorOf(std::string(kMinimalSweep) + "parameters:\n  size: {valeus: [1, 2]}\n");
  EXPECT_NE(message.find("did you mean 'values'"), std::string::npos) << message;
  message = ErrorOf(std::string(kMinimalSweep) + "output: {datset: x}\n");
  EXPECT_NE(message.find("did you mean 'dataset'"), std::string::npos) << message;
}

TEST(ParseSweep, ValuesAreCheckedAgainstTheSettingTypeWhereTheyAreWritten) {
  std::string message = ErrorOf(std::string(kMinimalSweep) + "parameters:\n  size:\n    values: [128,\n      big]\n");
  EXPECT_NE(message.find(":7:7:"), std::string::npos) << message;
  EXPECT_NE(message.find("'big'"), std::string::npos) << message;
  message = ErrorOf(std::string(kMinimalSweep) + "base: {init: zeros}\n");
  EXPECT_NE(message.find("content,noise,style"), std::string::npos) << message;
  message = ErrorOf(std::string(kMinimalSweep) + "base: {alpha_beta: -1}\n");
  EXPECT_NE(message.find("alpha_beta"), std::string::npos) << message;
}

TEST(ParseSweep, ParameterNeedsExactlyOneForm) {
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "parameters:\n  size: {values: [1], value: 2}\n").find("exactly one"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "parameters:\n  size: [128, 256]\n").find("must be a map"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "parameters:\n  size: {values: []}\n").find("non-empty"),
            std::string::npos);
}

TEST(ParseSweep, DistributionsAreValidated) {
  const std::string random = std::string(kMinimalSweep) + "method: random\ncount: 3\nparameters:\n";
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "parameters:\n  style_weight: {distribution: uniform, min: 1, max: 2}\n")
                .find("needs method: random"),
            std::string::npos);
  EXPECT_NE(ErrorOf(random + "  style_weight: {distribution: log_uniform, min: 0, max: 2}\n").find("min > 0"),
            std::string::npos);
  EXPECT_NE(ErrorOf(random + "  style_weight: {distribution: uniform, min: 3, max: 2}\n").find("greater than max"),
            std::string::npos);
  EXPECT_NE(ErrorOf(random + "  size: {distribution: uniform, min: 64, max: 128}\n").find("int_uniform"),
            std::string::npos);
  EXPECT_NE(ErrorOf(random + "  init: {distribution: uniform, min: 0, max: 1}\n").find("numeric setting"),
            std::string::npos);
  EXPECT_NE(ErrorOf(random + "  style_weight: {distribution: log_normal, min: 1, max: 2}\n").find("did you mean 'log_uniform'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(random + "  size: {distribution: int_uniform, min: 0, max: 64}\n").find("size"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "method: random\n").find("needs count"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "count: 3\n").find("applies to method: random"), std::string::npos);
}

TEST(ParseSweep, ZipGroupsMustNameParametersOfEqualLength) {
  const std::string sweep = std::string(kMinimalSweep) +
                            "parameters:\n"
                            "  alpha_beta: {values: [1e-4, 1e-3, 1e-2]}\n"
                            "  style_layers: {values: [[relu1_1], [relu2_1]]}\n"
                            "  size: {values: [64, 128]}\n";
  std::string message = ErrorOf(sweep + "zip: [[alpha_beta, style_layers]]\n");
  EXPECT_NE(message.find("zip group [alpha_beta, style_layers]"), std::string::npos) << message;
  EXPECT_NE(message.find("alpha_beta has 3, style_layers has 2"), std::string::npos) << message;
  EXPECT_NE(message.find(":8:"), std::string::npos) << message;
  message = ErrorOf(sweep + "zip: [[size, style_layer]]\n");
  EXPECT_NE(message.find("did you mean 'style_layers'"), std::string::npos) << message;
  message = ErrorOf(sweep + "zip: [[size, style_layers], [style_layers, size]]\n");
  EXPECT_NE(message.find("more than one zip group"), std::string::npos) << message;
  EXPECT_TRUE(ParseText(sweep + "zip: [[size, style_layers]]\n").ok());
}

TEST(ParseSweep, ConflictingAndRepeatedKeysAreRejected) {
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "base: {size: 64}\nparameters:\n  size: {values: [1, 2]}\n")
                .find("both in base and in parameters"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "base: {content_weight: 1, alpha_beta: 1e-3}\n").find("not both"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMinimalSweep) + "base: {size: 64, size: 128}\n").find("given twice"),
            std::string::npos);
}

TEST(ParseSweep, RequiredKeysAreNamed) {
  EXPECT_NE(ErrorOf("content: a.png\nstyle: s.png\n").find("needs a name"), std::string::npos);
  EXPECT_NE(ErrorOf("name: t\nstyle: s.png\n").find("needs content"), std::string::npos);
  EXPECT_NE(ErrorOf("name: t\ncontent: a.png\n").find("needs style"), std::string::npos);
  EXPECT_NE(ErrorOf("- a\n- b\n").find("must be a map"), std::string::npos);
}

TEST(SweepOverrides, ScalarListsBecomeSweptValues) {
  Result<SweepSpec> spec = ParseText(std::string(kMinimalSweep) + "base: {style_weight: 10}\n",
                                     {"style_weight=1e3,1e4", "size=96"});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const ParameterSpec* weight = FindParameter(*spec, "style_weight");
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight->values, (std::vector<std::string>{"1e3", "1e4"}));
  EXPECT_EQ(spec->base, (std::vector<std::pair<std::string, std::string>>{{"size", "96"}}));
}

TEST(SweepOverrides, SingleValueReplacesParameterOrBase) {
  Result<SweepSpec> spec = ParseText(std::string(kMinimalSweep) + "base: {size: 64}\nmethod: random\ncount: 2\n"
                                     "parameters:\n  style_weight: {distribution: log_uniform, min: 1, max: 10}\n",
                                     {"size=128", "style_weight=5"});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->base, (std::vector<std::pair<std::string, std::string>>{{"size", "128"}}));
  const ParameterSpec* weight = FindParameter(*spec, "style_weight");
  ASSERT_NE(weight, nullptr);
  EXPECT_EQ(weight->distribution, Distribution::kNone);
  EXPECT_EQ(weight->values, (std::vector<std::string>{"5"}));
}

TEST(SweepOverrides, ListValuedSettingsUseSemicolonsBetweenAlternatives) {
  Result<SweepSpec> spec = ParseText(kMinimalSweep, {"style_layers=[relu1_1,relu2_1];[relu1_1]",
                                                     "content_layers=relu4_2", "scales=128:100,256:50;256:150"});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const ParameterSpec* layers = FindParameter(*spec, "style_layers");
  ASSERT_NE(layers, nullptr);
  EXPECT_EQ(layers->values, (std::vector<std::string>{"relu1_1,relu2_1", "relu1_1"}));
  EXPECT_EQ(spec->base, (std::vector<std::pair<std::string, std::string>>{{"content_layers", "relu4_2"}}));
  const ParameterSpec* scales = FindParameter(*spec, "scales");
  ASSERT_NE(scales, nullptr);
  EXPECT_EQ(scales->values, (std::vector<std::string>{"128:100,256:50", "256:150"}));
}

TEST(SweepOverrides, SweepLevelKeys) {
  Result<SweepSpec> spec = ParseText(kMinimalSweep, {"repeats=4", "method=random", "count=9", "sampling_seed=5"});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->repeats, 4);
  EXPECT_EQ(spec->method, SweepMethod::kRandom);
  EXPECT_EQ(spec->count, 9);
  EXPECT_EQ(spec->seed, 5u);
}

TEST(SweepOverrides, BadOverridesAreRejectedWithTheClosestKey) {
  std::string message = ErrorOf(kMinimalSweep, {"styel_weight=1"});
  EXPECT_NE(message.find("did you mean 'style_weight'"), std::string::npos) << message;
  EXPECT_NE(message.find("override 'styel_weight=1'"), std::string::npos) << message;
  EXPECT_NE(ErrorOf(kMinimalSweep, {"size=abc"}).find("whole number"), std::string::npos);
  EXPECT_NE(ErrorOf(kMinimalSweep, {"size"}).find("key=value"), std::string::npos);
  EXPECT_NE(ErrorOf(kMinimalSweep, {"size="}).find("no value"), std::string::npos);
  EXPECT_NE(ErrorOf(kMinimalSweep, {"size=64,"}).find("empty value"), std::string::npos);
  EXPECT_NE(ErrorOf(kMinimalSweep, {"repeats=0"}).find("positive"), std::string::npos);
}

}  // namespace
}  // namespace stylesweep
