// The sweep's and plan's checks before anything runs (scheduler/memory_check.h):
// --batch-jobs and --device-memory parsing, batch capacities, the auto batch.
#include "scheduler/memory_check.h"

#include <gtest/gtest.h>

#include "tests/scheduler/fake_executors.h"

namespace stylesweep {
namespace {

using testing::MakeJobs;

TEST(ParseBatchJobs, TakesAWholeNumberOrAuto) {
  EXPECT_EQ(*ParseBatchJobs("auto"), 0);
  EXPECT_EQ(*ParseBatchJobs("1"), 1);
  EXPECT_EQ(*ParseBatchJobs("12"), 12);
  for (const char* bad : {"0", "-2", "3x", "", "two", "1.5"}) {
    Result<int> parsed = ParseBatchJobs(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("--batch-jobs must be a whole number >= 1 or auto, not '" +
                                             std::string(bad) + "'"),
              std::string::npos)
        << parsed.status().message();
  }
}

TEST(ResolveMemoryLimit, ASizeChecksEveryJobAndNothingChecksNone) {
  Result<MemoryLimit> none = ResolveMemoryLimit("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->bytes, 0);
  Result<MemoryLimit> sized = ResolveMemoryLimit("80GiB");
  ASSERT_TRUE(sized.ok()) << sized.status().ToString();
  EXPECT_EQ(sized->bytes, 80LL << 30);
  EXPECT_FALSE(sized->cuda_only);
  Result<MemoryLimit> bad = ResolveMemoryLimit("lots");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--device-memory"), std::string::npos) << bad.status().message();
}

TEST(BatchCapacities, NoBatchHoldsMoreJobsThanShareItsKey) {
  std::vector<JobSpec> jobs = MakeJobs(5);
  EXPECT_EQ(BatchCapacities(jobs, 1), std::vector<int>(5, 1));
  EXPECT_EQ(BatchCapacities(jobs, 3), std::vector<int>(5, 3));
  EXPECT_EQ(BatchCapacities(jobs, 16), std::vector<int>(5, 5));
  jobs[4].options.optimizer = "adam";  // no L-BFGS: never batched
  jobs[3].options.size = 64;           // alone under its key
  EXPECT_EQ(BatchCapacities(jobs, 16), (std::vector<int>{3, 3, 3, 1, 1}));
}

TEST(ChooseBatchJobs, WithoutDeviceMemoryToFillItIsOne) {
  const BatchChoice choice = ChooseBatchJobs(MakeJobs(6), MemoryLimit{}, "");
  EXPECT_EQ(choice.batch_jobs, 1);
  EXPECT_NE(choice.note.find("--batch-jobs auto: 1"), std::string::npos) << choice.note;
}

TEST(SweepMemoryLimit, CpuJobsAreNotChecked) {
  EXPECT_EQ(SweepMemoryLimit(MakeJobs(3), 8LL << 30).bytes, 0);
  EXPECT_TRUE(CheckSweepJobsFit(MakeJobs(3), "", 1 << 20).ok());
}

TEST(SweepMemoryLimit, CudaJobsAreCheckedAgainstTheWorkersSmallestGpu) {
  std::vector<JobSpec> jobs = MakeJobs(3);
  jobs[1].options.device = "cuda";
  const MemoryLimit limit = SweepMemoryLimit(jobs, 8LL << 30);
  EXPECT_EQ(limit.bytes, 8LL << 30);
  EXPECT_TRUE(limit.cuda_only);
  EXPECT_EQ(SweepMemoryLimit(jobs, 0).bytes, 0) << "no worker sees a GPU: nothing to check against";
}

}  // namespace
}  // namespace stylesweep
