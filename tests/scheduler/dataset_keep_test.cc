// output.keep: only the images of runs that pass the filter go into the
// dataset folder, every manifest line carries the judge's scores, and every
// run stays in the store.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "scheduler/coordinator.h"
#include "scheduler/dataset_keep.h"
#include "scheduler/run_metric_names.h"
#include "tests/scheduler/fake_executors.h"
#include "tests/scheduler/store_sweep_fixture.h"

namespace stylesweep {
namespace {

// The no-op executor's outcome plus judge scores: job i scores style
// distance 0.1 i.
class ScoringExecutor : public JobExecutor {
 public:
  Result<JobOutcome> Execute(const JobSpec& job, const std::function<bool()>& should_stop) override {
    Result<JobOutcome> outcome = noop_.Execute(job, should_stop);
    if (outcome.ok()) {
      outcome->metrics.push_back({"eval/style_distance", 1, 0.1 * job.index, 0});
      outcome->metrics.push_back({"eval/judge_id", 1, 7, 0});
    }
    return outcome;
  }

 private:
  NoopExecutor noop_;
};

class DatasetKeepTest : public testing::StoreSweepTest {
 protected:
  void SetUp() override {
    OpenStore("keep");
    spec_.output.dataset_dir = dir_.path() + "/dataset";
  }
};

TEST_F(DatasetKeepTest, OnlyRunsThatPassGoIntoTheDatasetAndManifestLinesCarryScores) {
  spec_.output.keep = "metrics.eval/style_distance < 0.15";
  ScoringExecutor executor;
  const auto jobs = testing::MakeJobs(3);
  SweepSummary summary = RunOneSweep(executor, jobs, CoordinatorOptions{});
  EXPECT_EQ(summary.finished, 3);
  EXPECT_EQ(summary.dataset_kept, 2);
  EXPECT_EQ(summary.dataset_dropped, 1);
  EXPECT_EQ(summary.output_errors, 0);
  EXPECT_EQ(RunsByKey().size(), 3u);  // every run stays in the store
  std::ifstream manifest(spec_.output.dataset_dir + "/manifest.jsonl");
  std::string line;
  std::map<std::string, nlohmann::json> entries;
  while (std::getline(manifest, line)) {
    auto entry = nlohmann::json::parse(line);
    entries[entry["job_key"].get<std::string>()] = entry;
  }
  ASSERT_EQ(entries.size(), 2u);
  for (const JobSpec& job : jobs) {
    const bool kept = job.index < 2;
    EXPECT_EQ(entries.count(job.job_key), kept ? 1u : 0u) << job.index;
    EXPECT_EQ(std::filesystem::exists(spec_.output.dataset_dir + "/" + job.output_name + ".png"), kept) << job.index;
    if (kept) {
      EXPECT_DOUBLE_EQ(entries.at(job.job_key)["scores"]["eval/style_distance"].get<double>(), 0.1 * job.index);
      EXPECT_TRUE(entries.at(job.job_key)["scores"]["eval/judge_id"].is_number_integer());
    }
  }
}

TEST_F(DatasetKeepTest, ABadFilterStopsTheSweepBeforeAnythingRuns) {
  spec_.output.keep = "metrics.eval/style_distanse < 0.15";
  ScoringExecutor executor;
  LocalTransport transport(&executor, nullptr, WorkerHello{"host", 0, 0, 1, "cpu"});
  Result<SweepSummary> summary =
      RunSweep(spec_, spec_.name, "sweep text", testing::MakeJobs(2), *store_, transport, CoordinatorOptions{});
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.status().message().find("output.keep"), std::string::npos) << summary.status().message();
  EXPECT_NE(summary.status().message().find("eval/style_distance"), std::string::npos) << summary.status().message();
  auto experiments = store_->ListExperiments();
  ASSERT_TRUE(experiments.ok());
  EXPECT_TRUE(experiments->empty()) << "the store is untouched";
}

TEST(CheckKeepFilter, KnowsTheParamsLossesAndScoresOfTheSweep) {
  const auto jobs = testing::MakeJobs(2);
  EXPECT_TRUE(CheckKeepFilter("metrics.eval/ssim > 0.3 and params.style_weight >= 1000", jobs).ok());
  EXPECT_TRUE(CheckKeepFilter("metrics.total_loss < 1e9 or metrics.eval/color_distance < 0.5", jobs).ok());
  const Status syntax = CheckKeepFilter("metrics.eval/ssim >", jobs);
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.message().rfind("output.keep: ", 0), 0u) << syntax.message();
  EXPECT_FALSE(CheckKeepFilter("params.no_such_setting = 1", jobs).ok());
  // Why a run stopped is recorded for every run: a dataset of the converged ones.
  EXPECT_TRUE(CheckKeepFilter("metrics.stop/converged = 1 and metrics.stop/iteration < 300", jobs).ok());
}

TEST(CheckRankingMetric, AMistypedMetricIsRefusedWithTheNearestBeforeAnythingRuns) {
  auto jobs = testing::MakeJobs(2);
  jobs[1].options.style_layers = {"relu1", "fire2"};
  SweepSpec spec;
  spec.source = "sweep.yaml";
  for (const char* name : {"total_loss", "eval/ssim", "stop/iteration", "style_loss/fire2"}) {
    spec.metric.name = name;
    EXPECT_TRUE(CheckRankingMetric(spec, jobs).ok()) << name;
  }
  spec.metric.name = "total_los";
  const Status typo = CheckRankingMetric(spec, jobs);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(typo.message(), "sweep.yaml: metric.name 'total_los' is not a metric the runs record (did you mean "
                            "'total_loss'?)");
  spec.metric.name = "style_loss/fire9";  // not a style layer of these jobs
  EXPECT_FALSE(CheckRankingMetric(spec, jobs).ok());
}

TEST(ParseSweepOutput, KeepNeedsADataset) {
  const std::string base = "name: s\ncontent: c.png\nstyle: s.png\n";
  auto with_dataset = ParseSweep(base + "output: {dataset: out, keep: \"metrics.eval/ssim > 0.3\"}\n", "s.yaml", {});
  ASSERT_TRUE(with_dataset.ok()) << with_dataset.status().ToString();
  EXPECT_EQ(with_dataset->output.keep, "metrics.eval/ssim > 0.3");
  auto without = ParseSweep(base + "output: {keep: \"metrics.eval/ssim > 0.3\"}\n", "s.yaml", {});
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("give output.dataset too"), std::string::npos);
}

}  // namespace
}  // namespace stylesweep
