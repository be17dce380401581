// Reports: grid axes, curve downsampling, the embedded data and its escaping,
// limits, compare mode. tests/report/report_browser_test.cc opens the page.
#include "store/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/report/report_fixture.h"

namespace stylesweep {
namespace {

using nlohmann::json;
using testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json EmbeddedData(const std::string& html) {
  const std::string open = "id=\"report-data\">";
  const size_t begin = html.find(open);
  const size_t end = html.find("</script>", begin);
  EXPECT_NE(begin, std::string::npos);
  return json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

RunRecord MakeRun(int64_t id, Params params) {
  RunRecord run;
  run.id = id;
  run.params = std::move(params);
  return run;
}

TEST(ChooseGridAxes, GatysFigureThreeComesOutAsInThePaper) {
  std::vector<RunRecord> runs;
  const std::vector<std::string> layers = {"[\"relu1_1\"]", "a", "b", "c", "d"};
  int64_t id = 0;
  for (const std::string& layer : layers) {
    for (double ratio : {1e-5, 1e-4, 1e-3, 1e-2}) {
      runs.push_back(MakeRun(++id, {{"style_layers", ParamValue::String(layer)},
                                    {"alpha_beta", ParamValue::Number(ratio)},
                                    {"content_weight", ParamValue::Number(ratio * 1e3)},
                                    {"size", ParamValue::Number(512)}}));
    }
  }
  auto axes = ChooseGridAxes(runs, {"style_layers", "alpha_beta"}, "", "");
  ASSERT_TRUE(axes.ok()) << axes.status().ToString();
  EXPECT_EQ(axes->rows, "style_layers");
  EXPECT_EQ(axes->cols, "alpha_beta");
}

TEST(ChooseGridAxes, SkipsAParamThatFollowsAnAxis) {
  std::vector<RunRecord> runs;
  int64_t id = 0;
  for (const char* layer : {"x", "y"}) {
    for (double ratio : {1e-4, 1e-3, 1e-2}) {
      runs.push_back(MakeRun(++id, {{"style_layers", ParamValue::String(layer)},
                                    {"alpha_beta", ParamValue::Number(ratio)},
                                    {"content_weight", ParamValue::Number(ratio * 1e3)}}));
    }
  }
  // No sweep text: alpha_beta and content_weight both have 3 values.
  auto axes = ChooseGridAxes(runs, {}, "", "");
  ASSERT_TRUE(axes.ok());
  EXPECT_EQ(axes->rows, "alpha_beta");
  EXPECT_EQ(axes->cols, "style_layers");
  auto forced = ChooseGridAxes(runs, {}, "style_layers", "content_weight");
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->rows, "style_layers");
  EXPECT_EQ(forced->cols, "content_weight");
}

TEST(ChooseGridAxes, RejectsUnknownAndConstantParamsListingThoseThatVary) {
  std::vector<RunRecord> runs = {MakeRun(1, {{"a", ParamValue::Number(1)}, {"size", ParamValue::Number(5)}}),
                                 MakeRun(2, {{"a", ParamValue::Number(2)}, {"size", ParamValue::Number(5)}})};
  auto unknown = ChooseGridAxes(runs, {}, "alpah", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("not a param"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("params that vary: a"), std::string::npos);
  auto constant = ChooseGridAxes(runs, {}, "", "size");
  ASSERT_FALSE(constant.ok());
  EXPECT_NE(constant.status().message().find("same value in every run"), std::string::npos);
  auto one = ChooseGridAxes(runs, {}, "", "");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->rows, "a");
  EXPECT_EQ(one->cols, "");
}

TEST(SweptParamKeys, ReadsParametersInFileOrder) {
  EXPECT_EQ(SweptParamKeys(testing::kFixtureSweep), (std::vector<std::string>{"style_layers", "alpha_beta"}));
  EXPECT_TRUE(SweptParamKeys("parameters: [unclosed").empty());
  EXPECT_TRUE(SweptParamKeys("").empty());
}

TEST(DownsampleIndices, KeepsEndsAndEarlyDetail) {
  std::vector<int64_t> steps(1000);
  for (int i = 0; i < 1000; ++i) steps[i] = i;
  const std::vector<size_t> kept = DownsampleIndices(steps, 200);
  ASSERT_EQ(kept.size(), 200u);
  EXPECT_EQ(kept.front(), 0u);
  EXPECT_EQ(kept.back(), 999u);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  EXPECT_EQ(std::adjacent_find(kept.begin(), kept.end()), kept.end());
  // Evenly spaced points would put 20 in the first 100 steps.
  EXPECT_GT(std::count_if(kept.begin(), kept.end(), [](size_t i) { return i < 100; }), 40);
  EXPECT_EQ(DownsampleIndices({3, 4, 5}, 200).size(), 3u);
  EXPECT_EQ(DownsampleIndices(steps, 1), std::vector<size_t>{999});
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::WriteFixtureStore(dir_.path());
    ASSERT_NE(store_, nullptr);
    options_.experiment = testing::kFixtureExperiment;
    options_.output_path = store_->dir() + "/report.html";
  }
  json Build() {
    auto summary = WriteReport(store_.get(), options_);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    if (summary.ok()) summary_ = *summary;
    html_ = ReadFile(options_.output_path);
    return EmbeddedData(html_);
  }

  TempDir dir_;
  std::unique_ptr<RunStore> store_;
  ReportOptions options_;
  ReportSummary summary_;
  std::string html_;
};

TEST_F(ReportTest, EmbedsEveryRunWithThumbnailsCurvesAndLinks) {
  const json data = Build();
  EXPECT_EQ(summary_.runs, 6);
  EXPECT_EQ(summary_.failed, 1);
  EXPECT_EQ(summary_.thumbnails, 5);
  EXPECT_EQ(summary_.rows, "alpha_beta");
  EXPECT_EQ(summary_.cols, "style_layers");
  ASSERT_EQ(data["runs"].size(), 6u);
  EXPECT_EQ(data["grid"]["rows"], "alpha_beta");
  EXPECT_EQ(data["sources"].size(), 2u);
  for (const json& source : data["sources"]) {
    EXPECT_EQ(source["thumb"].get<std::string>().rfind("data:image/jpeg;base64,", 0), 0u);
  }
  int thumbs = 0;
  for (const json& run : data["runs"]) {
    // The four losses share their steps, which are stored once.
    const size_t points = run["status"] == "FAILED" ? 20u : 60u;
    EXPECT_EQ(run["curves"]["s"].size(), points);
    for (const char* key : {"total_loss", "content_loss", "style_loss", "tv_loss"}) {
      EXPECT_EQ(run["curves"][key].size(), points) << key;
    }
    EXPECT_EQ(run["timings"].size(), 4u);
    if (run.contains("thumb")) {
      ++thumbs;
      const std::string link = run["full"];
      EXPECT_EQ(link.rfind("artifacts/", 0), 0u) << link;
      EXPECT_TRUE(std::filesystem::exists(store_->dir() + "/" + link));
      const int id = run["id"];
      EXPECT_NEAR(run["ms_per_iteration"].get<double>(), 30.0 * (1 + (id - 1) % 2), 1e-6);
    }
  }
  EXPECT_EQ(thumbs, 5);
  EXPECT_EQ(std::vector<std::string>(data["varying"]),
            (std::vector<std::string>{"alpha_beta", "content_weight", "style_layers"}));
  EXPECT_EQ(data["constant"]["size"], 128);
}

TEST_F(ReportTest, TextInTheDataCannotEndTheScript) {
  const json data = Build();
  EXPECT_EQ(html_.find("</script><b>"), std::string::npos);
  bool found = false;
  for (const json& run : data["runs"]) found = found || run["error"] == testing::kFixtureError;
  EXPECT_TRUE(found);
}

TEST_F(ReportTest, NeedsNoNetwork) {
  Build();
  for (const char* external : {"src=\"http", "href=\"http", "<link", "@import", "fetch(", "XMLHttpRequest", "cdn."}) {
    EXPECT_EQ(html_.find(external), std::string::npos) << external;
  }
}

TEST_F(ReportTest, ThumbnailCapLinksTheRestAndSaysSo) {
  options_.max_thumbnails = 2;
  const json data = Build();
  EXPECT_EQ(summary_.thumbnails, 2);
  ASSERT_EQ(data["notes"].size(), 1u);
  EXPECT_NE(data["notes"][0].get<std::string>().find("for 2 runs (whole grids first); 3 more"), std::string::npos);
  int linked_only = 0;
  for (const json& run : data["runs"]) linked_only += run.contains("full") && !run.contains("thumb");
  EXPECT_EQ(linked_only, 3);
}

TEST_F(ReportTest, ThumbnailCapFillsWholeGridsFirst) {
  // Three more runs with a seed: with alpha_beta x seed as the grid,
  // style_layers splits two grids, runs 1-3 and 7-9 then runs 4-6.
  auto experiment = store_->GetExperiment(testing::kFixtureExperiment);
  ASSERT_TRUE(experiment.ok());
  auto first = store_->GetRun(1);
  ASSERT_TRUE(first.ok());
  for (int i = 0; i < 3; ++i) {
    Params params = first->params;
    params["alpha_beta"] = ParamValue::Number(std::vector<double>{1e-4, 1e-3, 1e-2}[i]);
    params["content_weight"] = ParamValue::Number(params["alpha_beta"].number * 1000);
    params["seed"] = ParamValue::Number(1);
    auto id = store_->EnsureRun(experiment->id, "seeded" + std::to_string(i), params);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ASSERT_TRUE(store_->StartRun(*id, "node1", 1, "cpu").ok());
    RunResult result;
    ArtifactInput artifact;
    artifact.bytes = testing::PngBytes(testing::GradientImage(64, 48, i));
    result.artifacts.push_back(artifact);
    ASSERT_TRUE(store_->RecordRunResult(*id, result).ok());
  }
  options_.rows = "alpha_beta";
  options_.cols = "seed";
  options_.max_thumbnails = 5;
  const json data = Build();
  std::vector<int> embedded;
  for (const json& run : data["runs"]) {
    if (run.contains("thumb")) embedded.push_back(run["id"]);
  }
  EXPECT_EQ(embedded, (std::vector<int>{1, 2, 3, 7, 8}));
}

TEST_F(ReportTest, CurveBudgetDownsamplesAndSaysSo) {
  options_.max_total_curve_points = 6 * 4 * 25;
  const json data = Build();
  EXPECT_EQ(data["limits"]["curve_points"], 25);
  for (const json& run : data["runs"]) {
    EXPECT_LE(run["curves"]["s"].size(), 25u);
    EXPECT_EQ(run["curves"]["s"][0], 0);
    EXPECT_EQ(run["curves"]["total_loss"].size(), run["curves"]["s"].size());
  }
  EXPECT_NE(data["notes"][0].get<std::string>().find("25 points"), std::string::npos);
}

TEST_F(ReportTest, LossesLoggedAtDifferentStepsKeepTheirOwnSteps) {
  auto run = store_->GetRun(1);
  ASSERT_TRUE(run.ok());
  auto experiment = store_->GetExperiment(testing::kFixtureExperiment);
  ASSERT_TRUE(experiment.ok());
  Params params = run->params;
  params["alpha_beta"] = ParamValue::Number(0.5);
  auto id = store_->EnsureRun(experiment->id, "uneven", params);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(store_->StartRun(*id, "node1", 1, "cpu").ok());
  RunResult result;
  for (int step = 0; step < 10; ++step) {
    result.metrics.push_back({"total_loss", step, 100.0 - step, 0});
    if (step % 2 == 0) result.metrics.push_back({"style_loss", step, 50.0 - step, 0});
  }
  ASSERT_TRUE(store_->RecordRunResult(*id, result).ok());
  const json data = Build();
  const json& curves = data["runs"].back()["curves"];
  EXPECT_FALSE(curves.contains("s"));
  EXPECT_EQ(curves["total_loss"]["s"].size(), 10u);
  EXPECT_EQ(curves["style_loss"]["s"].size(), 5u);
  EXPECT_EQ(curves["style_loss"]["v"][1], 48.0);
}

TEST_F(ReportTest, WhereFiltersRuns) {
  options_.where = "params.alpha_beta > 0.005";
  const json data = Build();
  EXPECT_EQ(data["runs"].size(), 2u);
  EXPECT_EQ(data["grid"]["rows"], "style_layers");
}

TEST_F(ReportTest, CompareModeShowsChosenRunsAndWhatDiffers) {
  options_.experiment.clear();
  options_.runs = {"1", "hash5"};
  const json data = Build();
  EXPECT_EQ(data["mode"], "compare");
  ASSERT_EQ(data["runs"].size(), 2u);
  EXPECT_EQ(data["runs"][0]["id"], 1);
  EXPECT_EQ(data["runs"][1]["id"], 6);
  EXPECT_EQ(std::vector<std::string>(data["varying"]),
            (std::vector<std::string>{"alpha_beta", "content_weight", "style_layers"}));
}

TEST_F(ReportTest, MissingArtifactIsAPlaceholderNotAnError) {
  auto run = store_->GetRun(1);
  ASSERT_TRUE(run.ok());
  ASSERT_FALSE(run->artifacts.empty());
  std::filesystem::remove(store_->ArtifactPath(run->artifacts[0]));
  const json data = Build();
  EXPECT_FALSE(data["runs"][0].contains("thumb"));
  EXPECT_NE(data["runs"][0]["thumb_error"].get<std::string>().find("artifacts/1/"), std::string::npos);
}

TEST_F(ReportTest, BadOptionsNameTheProblem) {
  options_.rows = "stlye_layers";
  auto bad_axis = WriteReport(store_.get(), options_);
  ASSERT_FALSE(bad_axis.ok());
  EXPECT_NE(bad_axis.status().message().find("--rows stlye_layers"), std::string::npos);
  options_.rows.clear();
  options_.experiment = "nope";
  EXPECT_EQ(WriteReport(store_.get(), options_).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(options_.output_path));
}

TEST(RenderReportHtml, EscapesEveryAngleBracket) {
  const std::string html = RenderReportHtml(R"({"x":"</script><!--"})");
  EXPECT_NE(html.find(R"({"x":"\u003c/script>\u003c!--"})"), std::string::npos);
  EXPECT_EQ(html.find("/*REPORT_DATA*/"), std::string::npos);
}

TEST(DefaultReportPath, SitsInTheStoreWithASafeName) {
  EXPECT_EQ(DefaultReportPath("runs", "fig3 a/b"), "runs/report-fig3_a_b.html");
}

}  // namespace
}  // namespace stylesweep
