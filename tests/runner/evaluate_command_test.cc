// `stylesweep evaluate` and `stylesweep runs --pareto` end to end.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include <fstream>

#include "common/shared_dir.h"
#include "engine/image_io.h"
#include "store/run_store.h"
#include "tests/runner/run_stylesweep.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::RunStylesweep;

class EvaluateCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    content_ = dir_.path() + "/content.png";
    style_ = dir_.path() + "/style.png";
    for (const auto& [from, to] : {std::pair<std::string, std::string>{SharedImagesDir() + "/content/chelsea.png", content_},
                                   {SharedImagesDir() + "/style/starry_night.jpg", style_}}) {
      auto image = LoadImage(from);
      ASSERT_TRUE(image.ok()) << image.status().ToString();
      auto small = ResizeLongestSide(*image, 96, "catmullrom");
      ASSERT_TRUE(small.ok());
      ASSERT_TRUE(SavePng(*small, to).ok());
    }
  }

  // A store with three finished runs of `content_` whose final images are
  // the content image, the style image and the content image again.
  std::string WriteStore() {
    const std::string dir = dir_.path() + "/store";
    auto store = RunStore::Open(dir);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto experiment = (*store)->CreateOrGetExperiment("exp", "name: exp", "hash", "test");
    const std::string finals[] = {content_, style_, content_};
    for (int i = 0; i < 3; ++i) {
      Params params = {{"content_path", ParamValue::String(content_)},
                       {"style_paths", ParamValue::List({ParamValue::String(style_)})},
                       {"alpha_beta", ParamValue::Number(i)}};
      auto id = (*store)->EnsureRun(*experiment, "hash" + std::to_string(i), params);
      EXPECT_TRUE(id.ok());
      EXPECT_TRUE((*store)->StartRun(*id, "host", 1, "cpu").ok());
      RunResult result;
      result.metrics.push_back({"total_loss", 10, 1.0, 0});
      ArtifactInput artifact;
      artifact.step = 10;
      artifact.source_path = finals[i];
      result.artifacts.push_back(artifact);
      EXPECT_TRUE((*store)->RecordRunResult(*id, result).ok());
    }
    return dir;
  }

  testing::TempDir dir_;
  std::string content_, style_;
};

TEST_F(EvaluateCommandTest, JsonListsTheFourScoresPerImage) {
  auto result = RunStylesweep({"evaluate", "--content", content_, "--style", style_, "--format", "json", content_, style_});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json list = nlohmann::json::parse(result.output);
  ASSERT_EQ(list.size(), 2u);
  for (const char* key : {"eval/style_distance", "eval/content_distance", "eval/ssim", "eval/color_distance"}) {
    EXPECT_TRUE(list[0][key].is_number_float()) << key;
  }
  EXPECT_TRUE(list[0]["eval/judge_id"].is_number_integer());
  EXPECT_EQ(list[0]["image"], content_);
  EXPECT_NEAR(list[0]["eval/content_distance"].get<double>(), 0.0, 1e-12);
  EXPECT_NEAR(list[0]["eval/ssim"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(list[1]["eval/style_distance"].get<double>(), 0.0, 1e-9);
  EXPECT_NEAR(list[1]["eval/color_distance"].get<double>(), 0.0, 1e-6);

  // The table's row prints the judge's id in full, as the JSON has it, not as 6.36e+13.
  auto table = RunStylesweep({"evaluate", "--content", content_, "--style", style_, content_});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  const size_t row = table.output.find("\n" + content_);
  ASSERT_NE(row, std::string::npos) << table.output;
  const std::string line = table.output.substr(row + 1, table.output.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find(list[0]["eval/judge_id"].dump()), std::string::npos) << line;
}

TEST_F(EvaluateCommandTest, BadCommandLinesSayWhat) {
  auto no_style = RunStylesweep({"evaluate", "--content", content_, content_});
  EXPECT_EQ(no_style.exit_code, 2);
  EXPECT_NE(no_style.output.find("--style is required"), std::string::npos) << no_style.output;
  auto blend = RunStylesweep({"evaluate", "-c", content_, "-s", style_, "--style-blend", "1,2", content_});
  EXPECT_EQ(blend.exit_code, 2);
  EXPECT_NE(blend.output.find("2 weights for 1 style images"), std::string::npos) << blend.output;
  auto missing = RunStylesweep({"evaluate", "-c", content_, "-s", style_, dir_.path() + "/nothing.png"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("nothing.png"), std::string::npos) << missing.output;
  auto no_store = RunStylesweep({"evaluate", "--store", dir_.path() + "/no_store"});
  EXPECT_EQ(no_store.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/no_store"));
}

TEST_F(EvaluateCommandTest, StoreCatchesUpOnceAndParetoListsTheFront) {
  const std::string store = WriteStore();
  auto first = RunStylesweep({"evaluate", "--store", store, "-e", "exp"});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("scored 3 runs, 0 already scored"), std::string::npos) << first.output;
  auto second = RunStylesweep({"evaluate", "--store", store});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("scored 0 runs, 3 already scored"), std::string::npos) << second.output;

  // Run 1 is the content image (content distance 0), run 2 the style image
  // (style distance 0), run 3 equals run 1: both 1 and 3 are on the front.
  auto front = RunStylesweep({"runs", "--store", store, "--pareto", "eval/style_distance,eval/content_distance",
                              "--columns", "id", "--format", "json"});
  ASSERT_EQ(front.exit_code, 0) << front.output;
  const nlohmann::json rows = nlohmann::json::parse(front.output);
  std::vector<int> ids;
  for (const auto& row : rows) ids.push_back(row["id"].get<int>());
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3}));
  auto ssim_front = RunStylesweep({"runs", "--store", store, "--pareto", "eval/ssim:max,eval/color_distance",
                                   "--columns", "id", "--format", "csv"});
  ASSERT_EQ(ssim_front.exit_code, 0) << ssim_front.output;
  EXPECT_EQ(ssim_front.output, "id\r\n1\r\n2\r\n3\r\n");  // RFC 4180 line ends
  auto bad = RunStylesweep({"runs", "--store", store, "--pareto", "eval/ssim"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("at least two metrics"), std::string::npos) << bad.output;

  // Run 2 scored by another judge: ranking by scores refuses the mix until
  // the store is rescored.
  {
    auto opened = RunStore::Open(store);
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE((*opened)->LogMetrics(2, {{"eval/judge_id", 10, 42, 0}}).ok());
  }
  auto mixed = RunStylesweep({"runs", "--store", store, "--sort", "metrics.eval/style_distance"});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.output.find("2 different judges"), std::string::npos) << mixed.output;
  auto rescored = RunStylesweep({"evaluate", "--store", store});
  ASSERT_EQ(rescored.exit_code, 0) << rescored.output;
  EXPECT_NE(rescored.output.find("scored 1 run, 2 already scored"), std::string::npos) << rescored.output;
  auto sorted = RunStylesweep({"runs", "--store", store, "--sort", "metrics.eval/style_distance", "--columns", "id",
                               "--format", "csv"});
  ASSERT_EQ(sorted.exit_code, 0) << sorted.output;
  EXPECT_EQ(sorted.output.substr(0, 7), "id\r\n2\r\n") << sorted.output;  // the style image: distance 0
}

// A sweep through the binary: every run scored on its worker, the front
// printed, output.keep choosing the dataset's images by a score and a param.
TEST_F(EvaluateCommandTest, SweepScoresRunsPrintsTheFrontAndKeepsWhatPasses) {
  const std::string sweep = dir_.path() + "/tiny.yaml";
  std::ofstream(sweep) << "name: tiny\n"
                          "content: " << content_ << "\n"
                          "style: " << style_ << "\n"
                          "base: {backbone: squeezenet1_0, size: 48, num_iterations: 5}\n"
                          "parameters:\n"
                          "  alpha_beta: {values: [1e-1, 1e-4]}\n"
                          "output:\n"
                          "  dataset: " << dir_.path() << "/dataset\n"
                          "  name: \"{alpha_beta}\"\n"
                          "  keep: \"params.alpha_beta < 0.01 and metrics.eval/ssim > -1\"\n";
  const std::string store = dir_.path() + "/sweep_store";
  auto result = RunStylesweep({"sweep", sweep, "--store", store});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Pareto front of eval/style_distance and eval/content_distance"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("1 image(s) kept, 1 dropped by output.keep"), std::string::npos) << result.output;
  std::ifstream manifest(dir_.path() + "/dataset/manifest.jsonl");
  std::string line, last;
  int lines = 0;
  while (std::getline(manifest, line)) {
    last = line;
    ++lines;
  }
  ASSERT_EQ(lines, 1);
  const nlohmann::json entry = nlohmann::json::parse(last);
  EXPECT_EQ(entry["file"], "1e-4.png");
  for (const char* key : {"eval/style_distance", "eval/content_distance", "eval/ssim", "eval/color_distance"}) {
    EXPECT_TRUE(entry["scores"][key].is_number()) << key;
  }
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/dataset/1e-4.png"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/dataset/1e-1.png"));
  auto sorted = RunStylesweep({"runs", "--store", store, "--sort", "metrics.eval/style_distance", "--where",
                               "metrics.eval/ssim > -1", "--columns", "id", "--format", "csv"});
  ASSERT_EQ(sorted.exit_code, 0) << sorted.output;
  EXPECT_EQ(std::count(sorted.output.begin(), sorted.output.end(), '\n'), 3) << sorted.output;
}

}  // namespace
}  // namespace stylesweep
