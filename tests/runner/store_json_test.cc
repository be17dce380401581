// The JSON that scripts read from `runs`, `compare`, `export` and `plan`,
// through the real binary (STYLESWEEP_BIN): an on/off setting (tf32,
// normalize_objective...) is a JSON boolean in each, as the store's text
// "true"/"false" is turned into one at the edge, and `--where` takes it as
// JSON prints it.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/run_store.h"
#include "tests/runner/run_stylesweep.h"
#include "tests/smooth_png.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::CommandResult;
using testing::RunStylesweep;

// A store with experiment "fixture": run 1 with tf32 on, run 2 with tf32
// off, both finished with a final image.
class StoreJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.path() + "/store";
    Result<std::unique_ptr<RunStore>> store = RunStore::Open(store_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Result<int64_t> experiment = (*store)->CreateOrGetExperiment("fixture", "", "", "");
    ASSERT_TRUE(experiment.ok()) << experiment.status().ToString();
    for (int i = 0; i < 2; ++i) {
      const Params params = {{"tf32", ParamValue::String(i == 0 ? "true" : "false")},
                             {"size", ParamValue::Number(64)},
                             {"init", ParamValue::String("content")}};
      Result<int64_t> id = (*store)->EnsureRun(*experiment, "cfg" + std::to_string(i), params);
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      ASSERT_TRUE((*store)->StartRun(*id, "node", 0, "cpu").ok());
      RunResult result;
      result.metrics.push_back({"total_loss", 2, 10.0 - i, 1.7e9});
      ArtifactInput image;
      image.step = 2;
      image.bytes = "png of cfg" + std::to_string(i);
      result.artifacts.push_back(image);
      ASSERT_TRUE((*store)->RecordRunResult(*id, result).ok());
    }
  }

  // `stylesweep ARGS --store STORE`, which must succeed, as JSON.
  nlohmann::json Json(std::vector<std::string> args) {
    args.push_back("--store");
    args.push_back(store_);
    const CommandResult result = RunStylesweep(args);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    nlohmann::json json = nlohmann::json::parse(result.output, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.output;
    return json;
  }

  testing::TempDir dir_{"store_json_test"};
  std::string store_;
};

TEST_F(StoreJsonTest, RunsCompareAndExportPrintOnOffSettingsAsBooleans) {
  const nlohmann::json runs = Json({"runs", "--columns", "id,params.tf32,params.init", "--format", "json"});
  ASSERT_EQ(runs.size(), 2u) << runs.dump();
  EXPECT_EQ(runs[0]["params.tf32"], nlohmann::json(true)) << runs.dump();
  EXPECT_EQ(runs[1]["params.tf32"], nlohmann::json(false)) << runs.dump();
  EXPECT_EQ(runs[0]["params.init"], "content") << runs.dump();

  const nlohmann::json compared = Json({"compare", "1", "2", "--format", "json"});
  ASSERT_FALSE(compared.empty());
  EXPECT_EQ(compared[0]["key"], "params.tf32") << compared.dump();
  EXPECT_EQ(compared[0]["run 1"], nlohmann::json(true)) << compared.dump();

  const nlohmann::json exported = Json({"export", "-e", "fixture", "--format", "json"});
  ASSERT_EQ(exported.size(), 2u) << exported.dump();
  EXPECT_EQ(exported[0]["params"]["tf32"], nlohmann::json(true)) << exported.dump();
  EXPECT_EQ(exported[1]["params"]["tf32"], nlohmann::json(false)) << exported.dump();
  EXPECT_TRUE(exported[0]["params"]["size"].is_number_integer()) << exported.dump();

  // The table keeps the text.
  const CommandResult table = RunStylesweep({"runs", "--columns", "id,params.tf32", "--store", store_});
  EXPECT_NE(table.output.find(" 1  true"), std::string::npos) << table.output;
}

TEST_F(StoreJsonTest, AnExportedDatasetManifestPrintsOnOffSettingsAsBooleans) {
  const std::string folder = dir_.path() + "/dataset";
  const CommandResult done =
      RunStylesweep({"export", "-e", "fixture", "--format", "folder", "-o", folder, "--store", store_});
  ASSERT_EQ(done.exit_code, 0) << done.output;
  std::ifstream manifest(folder + "/manifest.jsonl");
  int lines = 0;
  for (std::string line; std::getline(manifest, line); ++lines) {
    const nlohmann::json record = nlohmann::json::parse(line);
    EXPECT_EQ(record["params"]["tf32"], nlohmann::json(record["run_id"] == 1)) << line;
  }
  EXPECT_EQ(lines, 2);
}

TEST_F(StoreJsonTest, WhereTakesTrueAndFalseBareOrQuoted) {
  for (const char* filter : {"params.tf32 = true", "params.tf32 = 'true'", "params.tf32 != false"}) {
    const nlohmann::json runs = Json({"runs", "--where", filter, "--columns", "id", "--format", "json"});
    EXPECT_EQ(runs, nlohmann::json::parse(R"([{"id": 1}])")) << filter;
  }
  const nlohmann::json off = Json({"runs", "--where", "params.tf32 in (false)", "--columns", "id", "--format", "json"});
  EXPECT_EQ(off, nlohmann::json::parse(R"([{"id": 2}])"));
}

// `plan --format json` printed a swept on/off setting as a string in a job's
// params while its options had the boolean.
TEST(PlanJson, ASweptOnOffSettingIsABooleanInParamsAsInOptions) {
  testing::TempDir dir("store_json_test");
  testing::WriteSmoothPng(dir.path() + "/content.png", 64, 48, 1);
  testing::WriteSmoothPng(dir.path() + "/style.png", 48, 48, 2);
  const std::string sweep = dir.path() + "/sweep.yaml";
  std::ofstream(sweep) << "name: bools\ncontent: [" << dir.path() << "/content.png]\nstyle: [" << dir.path()
                       << "/style.png]\nbase: {backbone: squeezenet1_0, device: cpu, size: 32, num_iterations: 2}\n"
                       << "parameters:\n  normalize_objective: {values: [true, false]}\n";
  const CommandResult plan = RunStylesweep({"plan", sweep, "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  const nlohmann::json jobs = nlohmann::json::parse(plan.output).at("jobs");
  ASSERT_EQ(jobs.size(), 2u) << plan.output;
  for (const nlohmann::json& job : jobs) {
    EXPECT_TRUE(job["params"]["normalize_objective"].is_boolean()) << job.dump();
    EXPECT_EQ(job["params"]["normalize_objective"], job["options"]["normalize_objective"]) << job.dump();
  }
}

}  // namespace
}  // namespace stylesweep
