#include "store/dataset_export.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/store/read_shards.h"
#include "tests/store/store_test_util.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

// A store with 5 finished runs (final image "png of hN"), one finished run
// without an image and one failed run.
class DatasetExport : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(dir_.path() + "/store");
    auto experiment = store_->CreateOrGetExperiment("coco", "name: coco", "h", "test");
    ASSERT_TRUE(experiment.ok());
    for (int i = 0; i < 7; ++i) {
      const std::string key = "h" + std::to_string(i);
      auto id = store_->EnsureRun(*experiment, key,
                                  {{"style_weight", ParamValue::Number(1000 + i)},
                                   {"content", ParamValue::String("c.png")},
                                   {"tf32", ParamValue::String(i % 2 == 0 ? "true" : "false")},
                                   {"style_layers", ParamValue::List({ParamValue::String("relu1_1"),
                                                                      ParamValue::String("relu2_1")})}});
      ASSERT_TRUE(id.ok());
      ASSERT_TRUE(store_->StartRun(*id, "host", 1, "cpu").ok());
      RunResult result;
      result.status = i == 6 ? RunStatus::kFailed : RunStatus::kFinished;
      if (i == 6) result.error_message = "decode failed";
      result.metrics = {{"total_loss", 1, 0.5 + i, 1000.0}, {"eval/ssim", 1, std::nan(""), 1000.0}};
      if (i < 5) {
        ArtifactInput artifact;
        artifact.step = 1;
        artifact.bytes = "png of " + key;
        result.artifacts.push_back(artifact);
      }
      ASSERT_TRUE(store_->RecordRunResult(*id, result).ok());
    }
  }

  testing::TempDir dir_{"dataset_export"};
  std::unique_ptr<RunStore> store_;
};

TEST_F(DatasetExport, WebDatasetShardsHoldEveryFinishedImageWithItsRecord) {
  DatasetExportOptions options;
  options.experiment = "coco";
  options.output_dir = dir_.path() + "/wds";
  options.format = "webdataset";
  options.shard_size = 2;
  options.bool_params = {"tf32"};
  Result<DatasetExportSummary> summary = ExportDataset(*store_, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->samples, 5);
  EXPECT_EQ(summary->no_image, 1);
  EXPECT_EQ(summary->shards, 3);
  auto shards = testing::ReadShards(options.output_dir);
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 3u);
  EXPECT_EQ(shards->begin()->first, "coco-000000.tar");
  std::set<std::string> keys;
  for (const auto& [name, samples] : *shards) {
    for (const auto& [key, files] : samples) {
      keys.insert(key);
      EXPECT_EQ(files.at("png"), "png of " + key);
      const nlohmann::json record = nlohmann::json::parse(files.at("json"));
      EXPECT_EQ(record["job_key"], key);
      // JSON types, as every JSON output: integers, arrays, booleans, "nan".
      EXPECT_TRUE(record["params"]["style_weight"].is_number_integer()) << record.dump();
      EXPECT_EQ(record["params"]["tf32"], nlohmann::json(std::stoi(key.substr(1)) % 2 == 0)) << record.dump();
      EXPECT_EQ(record["params"]["content"], "c.png") << record.dump();
      EXPECT_EQ(record["params"]["style_layers"], nlohmann::json::array({"relu1_1", "relu2_1"})) << record.dump();
      EXPECT_EQ(record["metrics"]["eval/ssim"], "nan") << record.dump();
      EXPECT_DOUBLE_EQ(record["metrics"]["total_loss"].get<double>(), 0.5 + std::stoi(key.substr(1)));
    }
  }
  EXPECT_EQ(keys, (std::set<std::string>{"h0", "h1", "h2", "h3", "h4"}));
}

TEST_F(DatasetExport, FolderGetsImagesAndAManifestAndBadRequestsAreRefused) {
  DatasetExportOptions options;
  options.experiment = "coco";
  options.output_dir = dir_.path() + "/folder";
  options.bool_params = {"tf32"};
  Result<DatasetExportSummary> summary = ExportDataset(*store_, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  std::ifstream manifest(options.output_dir + "/manifest.jsonl");
  int lines = 0;
  for (std::string line; std::getline(manifest, line); ++lines) {
    const nlohmann::json record = nlohmann::json::parse(line);
    EXPECT_TRUE(std::filesystem::exists(options.output_dir + "/" + record["file"].get<std::string>()));
    EXPECT_TRUE(record["params"]["tf32"].is_boolean()) << line;
  }
  EXPECT_EQ(lines, 5);

  options.experiment = "nope";
  EXPECT_EQ(ExportDataset(*store_, options).status().code(), StatusCode::kNotFound);
  options.experiment = "coco";
  options.format = "parquet";
  EXPECT_EQ(ExportDataset(*store_, options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stylesweep
