#include "scheduler/job_queue.h"

#include <gtest/gtest.h>

namespace stylesweep {
namespace {

std::vector<int> Drain(JobQueue& queue, const std::string& style = "") {
  std::vector<int> order;
  while (auto slot = queue.Pop(style)) order.push_back(*slot);
  return order;
}

TEST(JobQueue, LongestFirstThenPushOrder) {
  JobQueue queue;
  queue.Push(0, 100, "a");
  queue.Push(1, 400, "a");
  queue.Push(2, 100, "b");
  queue.Push(3, 900, "c");
  queue.Push(4, 400, "b");
  EXPECT_EQ(queue.size(), 5u);
  EXPECT_EQ(Drain(queue), (std::vector<int>{3, 1, 4, 0, 2}));
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.Pop("a").has_value());
}

TEST(JobQueue, PrefersLastStyleOnlyAmongLongestJobs) {
  JobQueue queue;
  queue.Push(0, 500, "a");
  queue.Push(1, 500, "b");
  queue.Push(2, 500, "a");
  queue.Push(3, 900, "c");
  queue.Push(4, 100, "b");
  // A worker that ran style b still gets the longest job first.
  EXPECT_EQ(queue.Pop("b"), 3);
  // Among the 500-cost jobs it gets its own style, then push order.
  EXPECT_EQ(queue.Pop("b"), 1);
  EXPECT_EQ(queue.Pop("b"), 0);
  EXPECT_EQ(queue.Pop("a"), 2);
  EXPECT_EQ(queue.Pop("a"), 4);
  EXPECT_TRUE(queue.empty());
}

TEST(JobQueue, ARetriedSlotComesBack) {
  JobQueue queue;
  queue.Push(0, 10, "a");
  queue.Push(1, 10, "a");
  EXPECT_EQ(queue.Pop(""), 0);
  queue.Push(0, 10, "a");
  EXPECT_EQ(Drain(queue, "a"), (std::vector<int>{1, 0}));
}

TEST(JobQueue, PopCompatibleTakesTheLongestJobsWithTheSameBatchKey) {
  JobQueue queue;
  queue.Push(0, 100, "a", "k1");
  queue.Push(1, 400, "a", "k2");
  queue.Push(2, 400, "b", "k1");
  queue.Push(3, 100, "c", "k1");
  queue.Push(4, 900, "c", "");
  EXPECT_EQ(queue.PopCompatible("k1"), 2);
  EXPECT_EQ(queue.PopCompatible("k1"), 0);
  EXPECT_FALSE(queue.PopCompatible("").has_value()) << "an empty key never batches";
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(Drain(queue), (std::vector<int>{4, 1, 3}));
  EXPECT_FALSE(queue.PopCompatible("k1").has_value());
}

}  // namespace
}  // namespace stylesweep
