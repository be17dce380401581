// Every finished run is scored on the worker by the one judge, whatever
// backbone made it; `stylesweep evaluate --store` (ScoreStoredRuns) gives
// the same numbers and scores only what lacks this judge's scores.
#include <gtest/gtest.h>

#include "common/shared_dir.h"
#include "engine/judge.h"
#include "scheduler/engine_executor.h"
#include "scheduler/job_scoring.h"
#include "tests/scheduler/fake_executors.h"
#include "tests/scheduler/store_sweep_fixture.h"

namespace stylesweep {
namespace {

const char* const kScores[] = {"eval/style_distance", "eval/content_distance", "eval/ssim", "eval/color_distance"};

class JudgedSweepTest : public testing::StoreSweepTest {
 protected:
  void SetUp() override { OpenStore("judged"); }

  // A SqueezeNet job and a VGG19-prefix job, 48 px, a few iterations.
  static std::vector<JobSpec> TwoBackbones() {
    auto jobs = testing::MakeJobs(2);
    for (JobSpec& job : jobs) {
      job.content_path = SharedImagesDir() + "/content/chelsea.png";
      job.style_paths = {SharedImagesDir() + "/style/starry_night.jpg"};
      job.options.backbone = job.index == 0 ? "squeezenet1_0" : "vgg19";
      job.options.size = 48;
      job.options.num_iterations = 5;
    }
    return jobs;
  }

  std::unique_ptr<Judge> LoadJudge() {
    auto judge = Judge::Load(SharedModelsDir());
    EXPECT_TRUE(judge.ok()) << judge.status().ToString();
    return judge.ok() ? std::move(judge).value() : nullptr;
  }
};

TEST_F(JudgedSweepTest, RunsOfBothBackbonesCarryScoresOfOneJudgeAndRescoringAgrees) {
  EngineExecutorOptions options;
  options.models_dir = SharedModelsDir();
  options.device_count = 0;
  EngineExecutor executor(options);
  SweepSummary summary = RunOneSweep(executor, TwoBackbones(), CoordinatorOptions{});
  ASSERT_EQ(summary.finished, 2);
  auto judge = LoadJudge();
  ASSERT_NE(judge, nullptr);
  std::map<int64_t, std::map<std::string, double>> recorded;
  for (const auto& [key, run] : RunsByKey()) {
    ASSERT_EQ(run.status, RunStatus::kFinished) << run.error_message;
    for (const char* metric : kScores) {
      ASSERT_EQ(run.latest_metrics.count(metric), 1u) << metric;
      EXPECT_EQ(run.latest_metrics.at(metric).step, 5);
      recorded[run.id][metric] = run.latest_metrics.at(metric).value;
    }
    ASSERT_EQ(run.latest_metrics.count("eval/judge_id"), 1u);
    EXPECT_EQ(run.latest_metrics.at("eval/judge_id").value, static_cast<double>(judge->identity().id));
    bool timed = false;
    for (const PhaseTiming& timing : run.timings) timed |= timing.phase == "evaluate";
    EXPECT_TRUE(timed);
  }
  ASSERT_EQ(recorded.size(), 2u);

  // Scored already: nothing to do.
  auto again = ScoreStoredRuns(*store_, *judge, "judged");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->scored, 0);
  EXPECT_EQ(again->already_scored, 2);

  // One run scored by another judge: rescored, with the worker's numbers.
  const int64_t stale = recorded.begin()->first;
  ASSERT_TRUE(store_->LogMetrics(stale, {{"eval/judge_id", 5, 12345, 0}, {"eval/style_distance", 5, 99, 0}}).ok());
  auto rescored = ScoreStoredRuns(*store_, *judge, "judged");
  ASSERT_TRUE(rescored.ok()) << rescored.status().ToString();
  EXPECT_EQ(rescored->scored, 1);
  EXPECT_EQ(rescored->already_scored, 1);
  EXPECT_EQ(rescored->failed, 0);
  auto run = store_->GetRun(stale);
  ASSERT_TRUE(run.ok());
  for (const char* metric : kScores) EXPECT_EQ(run->latest_metrics.at(metric).value, recorded[stale][metric]) << metric;
  EXPECT_EQ(run->latest_metrics.at("eval/judge_id").value, static_cast<double>(judge->identity().id));
}

TEST_F(JudgedSweepTest, RunsWithoutScoresCatchUpAndMissingImagesAreReported) {
  EngineExecutorOptions options;
  options.models_dir = SharedModelsDir();
  options.device_count = 0;
  options.score_runs = false;  // an older store: runs without scores
  EngineExecutor executor(options);
  auto jobs = TwoBackbones();
  jobs[1].content_path = dir_.path() + "/content.png";  // removed after the run
  std::filesystem::copy_file(jobs[0].content_path, jobs[1].content_path);
  ASSERT_EQ(RunOneSweep(executor, jobs, CoordinatorOptions{}).finished, 2);
  for (const auto& [key, run] : RunsByKey()) EXPECT_EQ(run.latest_metrics.count("eval/style_distance"), 0u);
  std::filesystem::remove(jobs[1].content_path);

  auto judge = LoadJudge();
  ASSERT_NE(judge, nullptr);
  auto summary = ScoreStoredRuns(*store_, *judge, "judged");
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->scored, 1);
  EXPECT_EQ(summary->failed, 1);
  ASSERT_EQ(summary->errors.size(), 1u);
  EXPECT_NE(summary->errors[0].find("content.png"), std::string::npos) << summary->errors[0];
  EXPECT_FALSE(ScoreStoredRuns(*store_, *judge, "no_such_experiment").ok());
}

}  // namespace
}  // namespace stylesweep
