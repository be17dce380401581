#include "experiments/job_memory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/shared_dir.h"
#include "experiments/job_table.h"
#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::ScratchDir;
using testing::WriteTinyPng;

// A SqueezeNet job on `content` at `size` px (the shared weights).
JobSpec SqueezeNetJob(int index, const std::string& content, int size) {
  JobSpec job;
  job.index = index;
  job.job_key = "key" + std::to_string(index);
  job.content_path = content;
  job.style_paths = {content};
  job.options.backbone = "squeezenet1_0";
  job.options.size = size;
  job.repeat = index % 2;
  return job;
}

void ExpectSameEstimates(const std::vector<MemoryEstimate>& a, const std::vector<MemoryEstimate>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].device_required, b[i].device_required) << i;
    EXPECT_EQ(a[i].peak_allocated, b[i].peak_allocated) << i;
    EXPECT_EQ(a[i].activations, b[i].activations) << i;
  }
}

TEST(EstimateTableMemory, AgreesWithEstimateJobsMemoryJobByJob) {
  ScratchDir dir;
  WriteTinyPng(dir / "wide.png", 640, 320);
  WriteTinyPng(dir / "tall.png", 200, 500);
  std::vector<JobSpec> jobs;
  for (int i = 0; i < 12; ++i) jobs.push_back(SqueezeNetJob(i, dir / (i % 3 == 0 ? "tall.png" : "wide.png"), i < 6 ? 256 : 128));
  const std::string models = SharedModelsDir();
  JobPlacement placement;
  placement.batch = std::vector<int>(jobs.size(), 1);
  placement.batch[4] = 3;
  Result<std::vector<MemoryEstimate>> expected = EstimateJobsMemory(jobs, models, "", placement);
  Result<std::vector<MemoryEstimate>> table = EstimateTableMemory(JobTable::FromJobs(jobs), models, "", placement);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ExpectSameEstimates(*table, *expected);
  EXPECT_GT((*table)[4].device_required, (*table)[1].device_required);  // the batch of 3
  EXPECT_NE((*table)[0].device_required, (*table)[1].device_required);  // another image size
  EXPECT_NE((*table)[1].device_required, (*table)[7].device_required);  // another setting
}

TEST(EstimateTableMemory, UsesTheSizesTheTableKeepsWithoutReadingTheImages) {
  ScratchDir dir;
  WriteTinyPng(dir / "wide.png", 640, 320);
  const JobSpec job = SqueezeNetJob(0, dir / "wide.png", 256);
  JobTable table;
  const std::uint32_t setting = table.AddSetting(JobTable::Setting{job.options, {}, "", 0});
  // A content image that is gone, but whose size the expansion read.
  const std::uint32_t content = table.AddContent(JobTable::Image{dir / "gone.png", "", 640, 320});
  const std::uint32_t styles = table.AddStyleSet({JobTable::Image{dir / "wide.png", "", 640, 320}});
  table.AddJob(setting, content, styles, table.AddStyleKey("s"), "k", 1.0, 0);
  Result<std::vector<MemoryEstimate>> from_table = EstimateTableMemory(table, SharedModelsDir());
  Result<std::vector<MemoryEstimate>> read = EstimateJobsMemory({job}, SharedModelsDir());
  ASSERT_TRUE(from_table.ok()) << from_table.status().ToString();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectSameEstimates(*from_table, *read);
}

TEST(EstimateTableMemory, AnUnreadableImageIsTheFirstFailingJobsError) {
  ScratchDir dir;
  WriteTinyPng(dir / "wide.png", 640, 320);
  std::vector<JobSpec> jobs = {SqueezeNetJob(0, dir / "wide.png", 256), SqueezeNetJob(1, dir / "missing.png", 256),
                               SqueezeNetJob(2, dir / "missing.png", 256)};
  Result<std::vector<MemoryEstimate>> expected = EstimateJobsMemory(jobs, SharedModelsDir());
  Result<std::vector<MemoryEstimate>> table = EstimateTableMemory(JobTable::FromJobs(jobs), SharedModelsDir());
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().ToString(), expected.status().ToString());
  EXPECT_NE(table.status().message().find("job 1 (missing.png)"), std::string::npos) << table.status().ToString();
}

}  // namespace
}  // namespace stylesweep
