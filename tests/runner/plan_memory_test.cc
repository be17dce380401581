// `stylesweep plan --device-memory` and the memory metrics a sweep records,
// through the real binary (STYLESWEEP_BIN) on tiny generated images.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "store/run_store.h"
#include "tests/runner/run_stylesweep.h"
#include "tests/smooth_png.h"
#include "tests/temp_dir.h"

namespace stylesweep {
namespace {

using testing::CommandResult;
using testing::RunStylesweep;
using testing::WriteSmoothPng;

class PlanMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path();
    WriteSmoothPng(root_ + "/content.png", 64, 48, 1);
    WriteSmoothPng(root_ + "/style.png", 48, 48, 2);
  }

  // A grid over `sizes` of VGG19-prefix jobs on the CPU.
  std::string WriteSweep(const std::string& sizes, int iterations = 2, const std::string& backbone = "vgg19",
                         const std::string& extra_base = "") {
    const std::string path = root_ + "/sweep.yaml";
    std::ofstream(path) << "name: memtest\nmethod: grid\ncontent: [" << root_ << "/content.png]\nstyle: [" << root_
                        << "/style.png]\nbase: {backbone: " << backbone << ", device: cpu, num_iterations: "
                        << iterations << extra_base << "}\nparameters:\n  size: {values: [" << sizes << "]}\n";
    return path;
  }

  testing::TempDir dir_{"plan_memory_test"};
  std::string root_;
};

TEST_F(PlanMemoryTest, EveryJobShowsItsMemoryEstimate) {
  CommandResult plan = RunStylesweep({"plan", WriteSweep("256, 1024")});
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("memory"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("MiB"), std::string::npos) << plan.output;   // the 256 px job
  EXPECT_NE(plan.output.find("largest memory estimate"), std::string::npos) << plan.output;
}

TEST_F(PlanMemoryTest, JobsThatDoNotFitAreRefusedWithWhatWouldFit) {
  // VGG19 (prefix file) at 4096 x 3072 px needs tens of GiB; 256 px well under 1 GiB.
  CommandResult plan = RunStylesweep({"plan", WriteSweep("256, 4096"), "--device-memory", "32GiB"});
  EXPECT_EQ(plan.exit_code, 1) << plan.output;
  EXPECT_NE(plan.output.find("1 of 2 jobs does not fit in 32.0 GiB"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("job 1 "), std::string::npos) << plan.output;
  EXPECT_EQ(plan.output.find("job 0 "), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("4096 px"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("px or less"), std::string::npos) << plan.output;
  // The replicated L-BFGS history (100 pairs of a 4096x3072 image) alone
  // outgrows 32 GiB, so splitting the image cannot help and is not offered.
  EXPECT_EQ(plan.output.find("a band split over"), std::string::npos) << plan.output;

  CommandResult short_history =
      RunStylesweep({"plan", WriteSweep("4096", 2, "vgg19", ", lbfgs_history: 5"), "--device-memory", "32GiB"});
  EXPECT_EQ(short_history.exit_code, 1) << short_history.output;
  EXPECT_NE(short_history.output.find("a band split over"), std::string::npos) << short_history.output;

  CommandResult roomy = RunStylesweep({"plan", WriteSweep("256, 4096"), "--device-memory", "200GiB"});
  EXPECT_EQ(roomy.exit_code, 0) << roomy.output;
}

TEST_F(PlanMemoryTest, PlanJsonGivesTheBandPlacementAsJsonTypes) {
  const std::string sweep = WriteSweep("64");
  CommandResult plain = RunStylesweep({"plan", sweep, "--format", "json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find("\"bands_across_nodes\": false"), std::string::npos) << plain.output;
  CommandResult across =
      RunStylesweep({"plan", sweep, "devices_per_job=2", "bands_across_nodes=true", "--format", "json"});
  ASSERT_EQ(across.exit_code, 0) << across.output;
  EXPECT_NE(across.output.find("\"bands_across_nodes\": true"), std::string::npos) << across.output;
  EXPECT_NE(across.output.find("\"devices_per_job\": 2"), std::string::npos) << across.output;
}

TEST_F(PlanMemoryTest, DevicesPerJobChecksTheShareOfEachDevice) {
  // The job that 32 GiB refuses (above) is offered a band split; the sweep
  // setting that takes the offer then plans it per device, and a larger
  // split that still does not fit suggests an even larger one.
  const std::string sweep = WriteSweep("4096", 2, "vgg19", ", lbfgs_history: 5");
  CommandResult refused = RunStylesweep({"plan", sweep, "--device-memory", "32GiB"});
  ASSERT_EQ(refused.exit_code, 1) << refused.output;
  const std::string offer = "a band split over ";
  const auto at = refused.output.find(offer);
  ASSERT_NE(at, std::string::npos) << refused.output;
  const int devices = std::stoi(refused.output.substr(at + offer.size()));
  EXPECT_NE(refused.output.find("devices_per_job: " + std::to_string(devices)), std::string::npos) << refused.output;

  CommandResult split = RunStylesweep(
      {"plan", sweep, "devices_per_job=" + std::to_string(devices), "--device-memory", "32GiB"});
  EXPECT_EQ(split.exit_code, 0) << split.output;
  EXPECT_NE(split.output.find("per device (each job split over " + std::to_string(devices) + " devices)"),
            std::string::npos)
      << split.output;

  CommandResult tight = RunStylesweep({"plan", sweep, "devices_per_job=" + std::to_string(devices),
                                       "--device-memory", "20GiB"});
  EXPECT_EQ(tight.exit_code, 1) << tight.output;
  EXPECT_NE(tight.output.find("split over " + std::to_string(devices) + " devices) needs about"), std::string::npos)
      << tight.output;
  EXPECT_NE(tight.output.find("a band split over " + std::to_string(devices * 2)), std::string::npos) << tight.output;
}

// The first "memory_bytes" of `plan --format json` output.
std::int64_t FirstMemoryBytes(const std::string& json) {
  const std::string key = "\"memory_bytes\": ";
  const auto at = json.find(key);
  return at == std::string::npos ? -1 : std::stoll(json.substr(at + key.size()));
}

TEST_F(PlanMemoryTest, BatchesAreCheckedWholeAndAutoPicksTheLargestThatFits) {
  // Four compatible jobs (same size and settings, two styles x two weights).
  WriteSmoothPng(root_ + "/style2.png", 48, 48, 3);
  const std::string sweep = root_ + "/batch.yaml";
  std::ofstream(sweep) << "name: batchtest\ncontent: [" << root_ << "/content.png]\nstyle: [" << root_
                       << "/style.png, " << root_ << "/style2.png]\nbase: {backbone: vgg19, device: cpu, size: 1024, "
                       << "num_iterations: 2}\nparameters:\n  alpha_beta: {values: [1e-3, 1e-2]}\n";
  CommandResult one = RunStylesweep({"plan", sweep, "--format", "json"});
  CommandResult four = RunStylesweep({"plan", sweep, "--format", "json", "--batch-jobs", "4"});
  ASSERT_EQ(one.exit_code, 0) << one.output;
  ASSERT_EQ(four.exit_code, 0) << four.output;
  const std::int64_t single = FirstMemoryBytes(one.output), batch = FirstMemoryBytes(four.output);
  ASSERT_GT(single, 0) << one.output;
  EXPECT_GT(batch, 3 * single) << "four jobs' activations and L-BFGS state, one copy of the weights";
  EXPECT_LT(batch, 4 * single);

  // Room for two jobs but not three: a batch of 4 is refused with the batch
  // size that fits, and auto picks it.
  const std::string room = std::to_string(single * 5 / 2);
  CommandResult refused = RunStylesweep({"plan", sweep, "--batch-jobs", "4", "--device-memory", room});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("in a batch of 4) needs about"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("--batch-jobs 2 or less"), std::string::npos) << refused.output;
  CommandResult automatic = RunStylesweep({"plan", sweep, "--batch-jobs", "auto", "--device-memory", room});
  EXPECT_EQ(automatic.exit_code, 0) << automatic.output;
  EXPECT_NE(automatic.output.find("--batch-jobs auto: 2,"), std::string::npos) << automatic.output;

  // Without a memory to fill (no GPU), auto runs one job at a time.
  CommandResult no_limit = RunStylesweep({"plan", sweep, "--batch-jobs", "auto"});
  EXPECT_EQ(no_limit.exit_code, 0) << no_limit.output;
  EXPECT_NE(no_limit.output.find("--batch-jobs auto: 1 "), std::string::npos) << no_limit.output;
  CommandResult bad = RunStylesweep({"plan", sweep, "--batch-jobs", "0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

// The largest "memory_bytes" of `plan --format json` output.
std::int64_t LargestMemoryBytes(const std::string& json) {
  const std::string key = "\"memory_bytes\": ";
  std::int64_t largest = -1;
  for (auto at = json.find(key); at != std::string::npos; at = json.find(key, at + 1)) {
    largest = std::max<std::int64_t>(largest, std::stoll(json.substr(at + key.size())));
  }
  return largest;
}

TEST_F(PlanMemoryTest, AutoIsNotLimitedByJobsWhoseWholeBatchFits) {
  // Four 256 px jobs share one batch key, two 1024 px jobs another. With
  // room for exactly the two large jobs' batch, auto still batches the four
  // small ones: a large job never waits for a third partner.
  const std::string sweep = root_ + "/mixed.yaml";
  std::ofstream(sweep) << "name: mixed\ncontent: [" << root_ << "/content.png]\nstyle: [" << root_
                       << "/style.png]\nbase: {backbone: vgg19, device: cpu, num_iterations: 2}\nparameters:\n"
                       << "  size: {values: [256, 256, 256, 256, 1024, 1024]}\n"
                       << "  alpha_beta: {values: [1e-4, 1e-3, 1e-2, 1e-1, 1e-3, 1e-2]}\nzip: [[size, alpha_beta]]\n";
  CommandResult pairs = RunStylesweep({"plan", sweep, "--format", "json", "--batch-jobs", "2"});
  ASSERT_EQ(pairs.exit_code, 0) << pairs.output;
  const std::string room = std::to_string(LargestMemoryBytes(pairs.output));
  CommandResult automatic = RunStylesweep({"plan", sweep, "--batch-jobs", "auto", "--device-memory", room});
  EXPECT_EQ(automatic.exit_code, 0) << automatic.output;
  EXPECT_NE(automatic.output.find("--batch-jobs auto: 4,"), std::string::npos) << automatic.output;
}

TEST_F(PlanMemoryTest, BadSizeIsAUsageErrorAndAutoWithoutCudaSaysSo) {
  CommandResult bad = RunStylesweep({"plan", WriteSweep("256"), "--device-memory", "lots"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--device-memory"), std::string::npos) << bad.output;
  CommandResult automatic = RunStylesweep({"plan", WriteSweep("256"), "--device-memory", "auto"});
  EXPECT_EQ(automatic.exit_code, 0) << automatic.output;
  EXPECT_TRUE(automatic.output.find("memory not checked") != std::string::npos ||
              automatic.output.find("smallest visible CUDA device") != std::string::npos)
      << automatic.output;
}

TEST_F(PlanMemoryTest, SweepRecordsTheEstimateAsAMetric) {
  const std::string store_dir = root_ + "/store";
  CommandResult sweep = RunStylesweep({"sweep", WriteSweep("32", 2, "squeezenet1_0"), "--store", store_dir,
                                       "--progress", "none", "--threads", "1"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  auto store = RunStore::Open(store_dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RunQuery query;
  query.experiment = "memtest";
  auto runs = (*store)->ListRuns(query);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 1u);
  const auto& metrics = runs->front().latest_metrics;
  auto estimate = metrics.find("memory/estimate_bytes");
  ASSERT_NE(estimate, metrics.end());
  EXPECT_GT(estimate->second.value, 1e6);  // the SqueezeNet weights alone are 2.9 MB
  EXPECT_EQ(estimate->second.step, 2);     // at the run's last step
  EXPECT_EQ(metrics.count("memory/peak_bytes"), 0u) << "the CPU allocator keeps no peak";

  CommandResult runs_table = RunStylesweep({"runs", "--store", store_dir, "--columns", "id,metrics.memory/estimate_bytes"});
  EXPECT_EQ(runs_table.exit_code, 0) << runs_table.output;
  EXPECT_NE(runs_table.output.find("memory/estimate_bytes"), std::string::npos) << runs_table.output;
}

}  // namespace
}  // namespace stylesweep
