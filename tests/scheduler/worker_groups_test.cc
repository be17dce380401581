#include "scheduler/worker_groups.h"

#include <gtest/gtest.h>

namespace stylesweep {
namespace {

using Groups = std::vector<std::vector<int>>;

TEST(PlanWorkerGroups, OneNodeGroupsConsecutiveWorkersAfterTheCoordinator) {
  auto groups = PlanWorkerGroups({0, 0, 0, 0, 0}, 0, 2, false);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(*groups, (Groups{{1, 2}, {3, 4}}));
}

TEST(PlanWorkerGroups, OneDevicePerJobMakesEveryWorkerItsOwnGroup) {
  auto groups = PlanWorkerGroups({0, 0, 0}, 0, 1, false);
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(*groups, (Groups{{1}, {2}}));
}

TEST(PlanWorkerGroups, GroupsNeverSpanNodes) {
  // Node 0: ranks 0 (coordinator), 1, 2; node 3: ranks 3-6 (ids are the
  // nodes' first ranks, as FormWorkerGroups makes them).
  auto groups = PlanWorkerGroups({0, 0, 0, 3, 3, 3, 3}, 0, 2, false);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(*groups, (Groups{{1, 2}, {3, 4}, {5, 6}}));
}

TEST(PlanWorkerGroups, RanksInterleavedAcrossNodesGroupByNode) {
  // --map-by node: ranks alternate between two nodes.
  auto groups = PlanWorkerGroups({0, 1, 0, 1, 0, 1, 0}, 0, 3, false);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(*groups, (Groups{{2, 4, 6}, {1, 3, 5}}));
}

TEST(PlanWorkerGroups, ANodeWithALeftOverRankIsRefusedWithTheCountThatFits) {
  auto groups = PlanWorkerGroups({0, 0, 0, 0}, 0, 2, false);
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().code(), StatusCode::kInvalidArgument);
  const std::string message = groups.status().message();
  EXPECT_NE(message.find("node of rank 0 has 3 worker rank(s) besides the coordinator"), std::string::npos) << message;
  EXPECT_NE(message.find("mpiexec -n 5"), std::string::npos) << message;

  auto second_node = PlanWorkerGroups({0, 0, 0, 3, 3, 3}, 0, 2, false);
  ASSERT_FALSE(second_node.ok());
  EXPECT_NE(second_node.status().message().find("node of rank 3 has 3 worker rank(s);"), std::string::npos)
      << second_node.status().message();
}

TEST(PlanWorkerGroups, LeftOverRanksOnSeveralNodesAreAllNamedWithTheRanksThatFitInAll) {
  // Node 0: the coordinator and ranks 1-3; node 4: ranks 4-6; node 7: ranks 7-8 (fits).
  auto groups = PlanWorkerGroups({0, 0, 0, 0, 4, 4, 4, 7, 7}, 0, 2, false);
  ASSERT_FALSE(groups.ok());
  const std::string message = groups.status().message();
  EXPECT_NE(message.find("the node of rank 0 has 3 worker rank(s) besides the coordinator (rank 0) and the node of "
                         "rank 4 has 3 worker rank(s);"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("here: 4 on the node of rank 0 and 4 on the node of rank 4, so 11 ranks in all on the 3 "
                         "nodes"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("on one node"), std::string::npos) << "no one-node launch advice: " << message;
}

TEST(PlanWorkerGroups, NoWorkersIsRefused) {
  auto groups = PlanWorkerGroups({0}, 0, 2, false);
  ASSERT_FALSE(groups.ok());
  EXPECT_NE(groups.status().message().find("mpiexec -n 3"), std::string::npos) << groups.status().message();
  EXPECT_FALSE(PlanWorkerGroups({0}, 0, 2, true).ok());
}

TEST(PlanWorkerGroups, ALeftOverRankNamesBandsAcrossNodes) {
  auto groups = PlanWorkerGroups({0, 0, 2}, 0, 2, false);
  ASSERT_FALSE(groups.ok());
  EXPECT_NE(groups.status().message().find("bands_across_nodes: true"), std::string::npos)
      << groups.status().message();
}

TEST(PlanWorkerGroups, AcrossNodesOneWorkerOnEachOfTwoNodesFormsOneGroup) {
  // Rank 0 (coordinator) and 1 on node 0, rank 2 on node 2: the test cluster's layout.
  auto groups = PlanWorkerGroups({0, 0, 2}, 0, 2, true);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(*groups, (Groups{{1, 2}}));
}

TEST(PlanWorkerGroups, AcrossNodesWholeGroupsStayOnTheirNodeAndOnlyTheRestSpans) {
  // Node 0: coordinator + 3 workers; node 4: 3 workers. Groups of 2: one per
  // node on its own, then the two ranks left over (3 and 6) together.
  auto groups = PlanWorkerGroups({0, 0, 0, 0, 4, 4, 4}, 0, 2, true);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(*groups, (Groups{{1, 2}, {4, 5}, {3, 6}}));
  // Groups of 3 over nodes of 2, 2 and 2 workers: left-overs in node order.
  auto threes = PlanWorkerGroups({0, 0, 0, 3, 3, 5, 5}, 0, 3, true);
  ASSERT_TRUE(threes.ok()) << threes.status().ToString();
  EXPECT_EQ(*threes, (Groups{{1, 2, 3}, {4, 5, 6}}));
}

TEST(PlanWorkerGroups, AcrossNodesATotalThatIsNoMultipleIsRefusedWithTheCountThatFits) {
  // Node 0: coordinator + ranks 1, 2; node 3: ranks 3, 4, 5. Rank 5 has no partner.
  auto groups = PlanWorkerGroups({0, 0, 0, 3, 3, 3}, 0, 2, true);
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().code(), StatusCode::kInvalidArgument);
  const std::string message = groups.status().message();
  EXPECT_NE(message.find("there are 5 worker rank(s) besides the coordinator"), std::string::npos) << message;
  EXPECT_NE(message.find("mpiexec -n 7"), std::string::npos) << message;
}

}  // namespace
}  // namespace stylesweep
