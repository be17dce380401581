// `stylesweep plan` over a photo folder as a dataset run sees it: broken
// files (--skip-unreadable) and the file-hash cache kept between runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/runner/run_stylesweep.h"
#include "tests/smooth_png.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::CommandResult;
using testing::RunProgram;
using testing::WriteSmoothPng;

class PlanDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path();
    std::filesystem::create_directories(root_ + "/photos");
    for (int i = 0; i < 4; ++i) WriteSmoothPng(root_ + "/photos/p" + std::to_string(i) + ".png", 24, 16, i);
    std::ofstream(root_ + "/photos/scraped.jpg") << "<html>404</html>";
    WriteSmoothPng(root_ + "/style.png", 16, 16, 9);
    sweep_ = root_ + "/sweep.yaml";
    std::ofstream(sweep_) << "name: ds\ncontent: " << root_ << "/photos\nstyle: " << root_
                          << "/style.png\nbase: {backbone: squeezenet1_0, device: cpu, size: 32, num_iterations: 2}\n";
    cache_ = root_ + "/cache/file-hashes.tsv";
  }

  CommandResult Plan(std::vector<std::string> args) {
    args.insert(args.begin(), {"plan", sweep_});
    return RunProgram(STYLESWEEP_BIN, args, "STYLESWEEP_HASH_CACHE='" + cache_ + "'");
  }

  testing::TempDir dir_{"plan_dataset_test"};
  std::string root_, sweep_, cache_;
};

TEST_F(PlanDataset, AnUnreadableImageRefusesThePlanUnlessSkipped) {
  CommandResult refused = Plan({});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("scraped.jpg: not a PNG or JPEG"), std::string::npos) << refused.output;

  CommandResult skipped = Plan({"--skip-unreadable"});
  ASSERT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("left out 1 unreadable image (skip_unreadable): scraped.jpg"), std::string::npos)
      << skipped.output;
  EXPECT_NE(skipped.output.find("4 jobs"), std::string::npos) << skipped.output;

  CommandResult json = Plan({"--skip-unreadable", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"skipped_images\": [\n    {\n      \"path\": \"" + root_ + "/photos/scraped.jpg\""),
            std::string::npos)
      << json.output;
}

TEST_F(PlanDataset, TheFileHashCacheIsWrittenOnceAndRehashRewritesIt) {
  ASSERT_EQ(Plan({"--skip-unreadable"}).exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(cache_));
  std::ifstream in(cache_);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 6);  // 4 photos, the style and the weights; not the broken file
  const auto written = std::filesystem::last_write_time(cache_);
  std::filesystem::last_write_time(cache_, written - std::chrono::hours(1));
  ASSERT_EQ(Plan({"--skip-unreadable"}).exit_code, 0);
  EXPECT_EQ(std::filesystem::last_write_time(cache_), written - std::chrono::hours(1)) << "nothing new to save";
  ASSERT_EQ(Plan({"--skip-unreadable", "--rehash"}).exit_code, 0);
  EXPECT_GT(std::filesystem::last_write_time(cache_), written - std::chrono::hours(1)) << "--rehash saves afresh";
}

}  // namespace
}  // namespace stylesweep
