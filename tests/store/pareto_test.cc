#include "store/pareto.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace stylesweep {
namespace {

RunRecord ScoredRun(int64_t id, double style, double content, double judge = 7) {
  RunRecord run;
  run.id = id;
  run.latest_metrics["eval/style_distance"] = {"eval/style_distance", 1, style, 0};
  run.latest_metrics["eval/content_distance"] = {"eval/content_distance", 1, content, 0};
  run.latest_metrics["eval/judge_id"] = {"eval/judge_id", 1, judge, 0};
  return run;
}

std::vector<ParetoObjective> StyleAndContent() {
  auto parsed = ParseParetoObjectives("eval/style_distance,metrics.eval/content_distance");
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : std::vector<ParetoObjective>{};
}

TEST(ParetoFront, KeepsTheRunsNoOtherRunBeatsOnBoth) {
  // 1 and 3 and 4 trade style against content; 2 is beaten by 1; 5 ties 4
  // exactly (neither dominates the other).
  const std::vector<RunRecord> runs = {ScoredRun(1, 0.2, 0.5), ScoredRun(2, 0.3, 0.6), ScoredRun(3, 0.1, 0.9), ScoredRun(4, 0.5, 0.1),
                                       ScoredRun(5, 0.5, 0.1)};
  EXPECT_EQ(ParetoFront(runs, StyleAndContent()), (std::vector<std::size_t>{0, 2, 3, 4}));
}

TEST(ParetoFront, MaximisedObjectivesFlipTheOrder) {
  auto objectives = ParseParetoObjectives("eval/style_distance, eval/content_distance:max");
  ASSERT_TRUE(objectives.ok());
  EXPECT_EQ((*objectives)[1].metric, "eval/content_distance");
  EXPECT_FALSE((*objectives)[0].maximize);
  EXPECT_TRUE((*objectives)[1].maximize);
  const std::vector<RunRecord> runs = {ScoredRun(1, 0.2, 0.5), ScoredRun(2, 0.2, 0.6), ScoredRun(3, 0.1, 0.1)};
  EXPECT_EQ(ParetoFront(runs, *objectives), (std::vector<std::size_t>{1, 2}));
}

TEST(ParetoFront, RunsWithoutTheMetricTakeNoPart) {
  RunRecord unscored;
  unscored.id = 9;
  const std::vector<RunRecord> runs = {ScoredRun(1, 0.2, 0.5), unscored,
                                       ScoredRun(3, std::numeric_limits<double>::quiet_NaN(), 0.0)};
  EXPECT_EQ(ParetoFront(runs, StyleAndContent()), (std::vector<std::size_t>{0}));
}

TEST(ParseParetoObjectives, ErrorsNameTheProblem) {
  auto one = ParseParetoObjectives("eval/ssim:max");
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("at least two metrics"), std::string::npos);
  auto goal = ParseParetoObjectives("eval/ssim:up,eval/style_distance");
  ASSERT_FALSE(goal.ok());
  EXPECT_NE(goal.status().message().find("must be min or max, not 'up'"), std::string::npos);
  EXPECT_FALSE(ParseParetoObjectives("eval/ssim,,x").ok());
}

TEST(CheckOneJudge, RefusesScoresOfDifferentJudges) {
  EXPECT_TRUE(CheckOneJudge({ScoredRun(1, 0.1, 0.1, 7), ScoredRun(2, 0.2, 0.2, 7), RunRecord{}}).ok());
  const Status mixed = CheckOneJudge({ScoredRun(1, 0.1, 0.1, 7), ScoredRun(2, 0.2, 0.2, 8)});
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.message().find("eval/judge_id 7, 8"), std::string::npos) << mixed.message();
  EXPECT_NE(mixed.message().find("stylesweep evaluate --store"), std::string::npos);
}

}  // namespace
}  // namespace stylesweep
