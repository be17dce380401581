#include "scheduler/sweep_share.h"

#include <gtest/gtest.h>

#include <set>

namespace stylesweep {
namespace {

std::vector<JobSpec> Jobs(int count) {
  std::vector<JobSpec> jobs(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    jobs[static_cast<std::size_t>(i)].index = i;
    jobs[static_cast<std::size_t>(i)].job_key = "key-" + std::to_string(i);
  }
  return jobs;
}

TEST(SweepShare, SharesAreDisjointCoverEveryJobAndDifferByAtMostOne) {
  for (int count : {1, 2, 3, 4, 7, 16}) {
    std::set<std::string> seen;
    std::size_t smallest = 1000, largest = 0;
    for (int index = 0; index < count; ++index) {
      std::vector<JobSpec> share = KeepShare(Jobs(10), SweepShare{index, count});
      smallest = std::min(smallest, share.size());
      largest = std::max(largest, share.size());
      for (const JobSpec& job : share) EXPECT_TRUE(seen.insert(job.job_key).second) << job.job_key << " in two shares";
    }
    EXPECT_EQ(seen.size(), 10u) << count << " shares";
    EXPECT_LE(largest - smallest, 1u) << count << " shares";
  }
}

TEST(SweepShare, KeepsTheOriginalOrderAndIsTheSameEveryTime) {
  std::vector<JobSpec> share = KeepShare(Jobs(10), SweepShare{1, 3});
  ASSERT_EQ(share.size(), 3u);
  EXPECT_EQ(share[0].job_key, "key-1");
  EXPECT_EQ(share[1].job_key, "key-4");
  EXPECT_EQ(share[2].job_key, "key-7");
  std::vector<JobSpec> again = KeepShare(Jobs(10), SweepShare{1, 3});
  ASSERT_EQ(again.size(), share.size());
  for (std::size_t i = 0; i < share.size(); ++i) EXPECT_EQ(again[i].job_key, share[i].job_key);
}

TEST(SweepShare, MoreSharesThanJobsLeavesSomeEmpty) {
  EXPECT_EQ(KeepShare(Jobs(2), SweepShare{1, 4}).size(), 1u);
  EXPECT_TRUE(KeepShare(Jobs(2), SweepShare{3, 4}).empty());
}

TEST(SweepShare, ParsesIOverN) {
  auto share = ParseSweepShare("2/5");
  ASSERT_TRUE(share.ok()) << share.status().ToString();
  EXPECT_EQ(share->index, 2);
  EXPECT_EQ(share->count, 5);
  ASSERT_TRUE(ParseSweepShare("0/1").ok());
}

TEST(SweepShare, RejectsWhatIsNotAShareWithTheExpectedForm) {
  for (const char* text : {"", "3", "5/5", "6/5", "1/0", "-1/4", "a/4", "1/b", "1/4/2", " 1/4", "1.0/4"}) {
    auto share = ParseSweepShare(text);
    ASSERT_FALSE(share.ok()) << text;
    EXPECT_EQ(share.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(share.status().message().find("I/N"), std::string::npos) << share.status().message();
  }
}

}  // namespace
}  // namespace stylesweep
