#include "experiments/job_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/experiments/sweep_test_util.h"

namespace stylesweep {
namespace {

using testing::SweepFixture;
using testing::WriteTinyPng;

void ExpectSameJob(const JobSpec& a, const JobSpec& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.job_key, b.job_key);
  EXPECT_EQ(a.content_path, b.content_path);
  EXPECT_EQ(a.style_paths, b.style_paths);
  EXPECT_EQ(StyleOptionsToMap(a.options), StyleOptionsToMap(b.options));
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.repeat, b.repeat);
  EXPECT_DOUBLE_EQ(a.cost, b.cost);
  EXPECT_EQ(a.style_key, b.style_key);
  EXPECT_EQ(a.output_name, b.output_name);
  EXPECT_EQ(a.weights_sha256, b.weights_sha256);
  EXPECT_EQ(a.content_sha256, b.content_sha256);
  EXPECT_EQ(a.style_sha256, b.style_sha256);
}

class JobTableTest : public SweepFixture {
 protected:
  // 30 content images x 2 styles x 2 alpha_beta values x 2 repeats = 240 jobs.
  std::string ManyJobsSweep(const std::string& extra = "") {
    for (int i = 0; i < 30; ++i) WriteTinyPng(dir_ / ("many/p" + std::to_string(100 + i) + ".png"), 40 + i, 30, "p" + std::to_string(i));
    return "name: many\ncontent: many\nstyle: [style/s1.png, style/s2.png]\nrepeats: 2\n"
           "parameters:\n  alpha_beta: {values: [1e-4, 1e-3]}\n" + extra;
  }

  Result<JobTable> ExpandTable(const std::string& yaml) {
    Result<SweepSpec> spec = Parse(yaml);
    if (!spec.ok()) return spec.status();
    return ExpandSweepTable(*spec, context_);
  }
};

TEST_F(JobTableTest, TableHoldsTheSameJobsAsTheExpandedList) {
  const std::string sweep = ManyJobsSweep("output: {dataset: out, name: \"{style}/{content}_{alpha_beta}_{repeat}\"}\n");
  Result<std::vector<JobSpec>> jobs = Expand(sweep);
  Result<JobTable> table = ExpandTable(sweep);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(jobs->size(), 240u);
  ASSERT_EQ(table->size(), jobs->size());
  for (std::size_t i = 0; i < jobs->size(); ++i) {
    ExpectSameJob(table->Job(i), (*jobs)[i]);
    EXPECT_EQ(table->job_key(i), (*jobs)[i].job_key);
    EXPECT_EQ(table->style_key(i), (*jobs)[i].style_key);
    EXPECT_DOUBLE_EQ(table->cost(i), (*jobs)[i].cost);
    EXPECT_EQ(table->options(i).seed, (*jobs)[i].options.seed);
    // The content's size as its header says (p100.png is 40 px wide, p101.png 41, ...).
    const std::string stem = std::filesystem::path(table->content(i).path).stem().string();
    EXPECT_EQ(table->content(i).width, 40 + std::stoi(stem.substr(1)) - 100) << stem;
    EXPECT_EQ(table->content(i).height, 30);
  }
  // Two configurations x two style sets.
  EXPECT_EQ(table->OnePerSettingAndStyle().size(), 2u * 2u * 2u);
}

TEST_F(JobTableTest, KeepOnlyKeepsPositionsAndIndices) {
  Result<JobTable> table = ExpandTable(ManyJobsSweep());
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const std::vector<JobSpec> all = table->AllJobs();
  table->KeepOnly([](std::size_t position) { return position % 3 == 1; });
  ASSERT_EQ(table->size(), all.size() / 3);
  for (std::size_t i = 0; i < table->size(); ++i) ExpectSameJob(table->Job(i), all[3 * i + 1]);
}

TEST_F(JobTableTest, FromJobsRoundTripsHandMadeJobs) {
  Result<std::vector<JobSpec>> jobs = Expand(ManyJobsSweep());
  ASSERT_TRUE(jobs.ok());
  (*jobs)[5].job_key = "short-key";  // hand-made lists may use keys of any length
  (*jobs)[7].output_name = "only/this/one";
  const JobTable table = JobTable::FromJobs(*jobs);
  ASSERT_EQ(table.size(), jobs->size());
  for (std::size_t i = 0; i < jobs->size(); ++i) ExpectSameJob(table.Job(i), (*jobs)[i]);
  EXPECT_EQ(table.job_key(5), "short-key");
}

}  // namespace
}  // namespace stylesweep
