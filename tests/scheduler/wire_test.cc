#include "scheduler/wire.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/scheduler/fake_executors.h"

namespace stylesweep {
namespace {

TEST(Wire, AssignmentRoundTripKeepsJobAndSettings) {
  JobSpec job = testing::MakeJobs(1).front();
  job.options.style_layers = {"relu1_1", "relu2_1"};
  job.options.style_weight = 12345.5;
  job.options.device = "cuda";
  job.style_paths.push_back("/images/second style.jpg");
  Result<JobAssignment> decoded = DecodeAssignment(EncodeAssignment(JobAssignment{42, job}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->run_id, 42);
  EXPECT_EQ(decoded->job.job_key, job.job_key);
  EXPECT_EQ(decoded->job.content_path, job.content_path);
  EXPECT_EQ(decoded->job.style_paths, job.style_paths);
  EXPECT_EQ(decoded->job.style_key, job.style_key);
  EXPECT_EQ(decoded->job.params, job.params);
  EXPECT_EQ(decoded->job.output_name, job.output_name);
  EXPECT_EQ(StyleOptionsToMap(decoded->job.options), StyleOptionsToMap(job.options));
  EXPECT_EQ(decoded->job.options.style_layers, job.options.style_layers);
  EXPECT_EQ(decoded->job.options.device, "cuda");
}

TEST(Wire, BatchAssignmentRoundTripKeepsEveryJobInOrder) {
  std::vector<JobSpec> jobs = testing::MakeJobs(3);
  jobs[1].options.style_weight = 77;
  std::vector<JobAssignment> batch = {{10, jobs[0]}, {11, jobs[1]}, {12, jobs[2]}};
  Result<std::vector<JobAssignment>> decoded = DecodeAssignments(EncodeAssignments(batch));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*decoded)[i].run_id, 10 + i);
    EXPECT_EQ((*decoded)[i].job.content_path, jobs[i].content_path);
    EXPECT_EQ(StyleOptionsToMap((*decoded)[i].job.options), StyleOptionsToMap(jobs[i].options));
  }
  // A single job travels as before, and either decoder reads it.
  const std::string single = EncodeAssignments({batch[1]});
  EXPECT_EQ(single, EncodeAssignment(batch[1]));
  Result<std::vector<JobAssignment>> one = DecodeAssignments(single);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().run_id, 11);
  // A damaged batch is kCorrupt.
  std::string damaged = EncodeAssignments(batch);
  damaged.resize(damaged.size() / 2);
  EXPECT_EQ(DecodeAssignments(damaged).status().code(), StatusCode::kCorrupt);
}

TEST(Wire, ReportRoundTripKeepsMetricsImagesAndNonFiniteValues) {
  JobReport report;
  report.run_id = 7;
  report.outcome.metrics = {{"total_loss", 1, 2.5, 100.0},
                            {"style_loss", 2, std::numeric_limits<double>::quiet_NaN(), 101.0},
                            {"tv_loss", 3, std::numeric_limits<double>::infinity(), 102.0},
                            {"style_loss/relu1_1", 3, -std::numeric_limits<double>::infinity(), 103.0}};
  report.outcome.timings = {{"load", 0.25}, {"optimize", 3.5}};
  report.outcome.final_image = {std::string("\x89PNG\0final", 10), 32, 24, 3};
  report.outcome.snapshots = {{std::string("snap-one\0\xff", 10), 16, 12, 1}, {"snap-two", 16, 12, 2}};
  report.outcome.device = "cuda:1";
  report.outcome.note = "adapted layers";

  Result<JobReport> decoded = DecodeReport(EncodeReport(report));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->status.ok());
  EXPECT_EQ(decoded->run_id, 7);
  const auto& metrics = decoded->outcome.metrics;
  ASSERT_EQ(metrics.size(), 4u);
  EXPECT_EQ(metrics[0].key, "total_loss");
  EXPECT_EQ(metrics[0].step, 1);
  EXPECT_DOUBLE_EQ(metrics[0].value, 2.5);
  EXPECT_DOUBLE_EQ(metrics[0].wall_time, 100.0);
  EXPECT_TRUE(std::isnan(metrics[1].value));
  EXPECT_EQ(metrics[2].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(metrics[3].value, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(metrics[3].key, "style_loss/relu1_1");
  ASSERT_EQ(decoded->outcome.timings.size(), 2u);
  EXPECT_EQ(decoded->outcome.timings[1].phase, "optimize");
  EXPECT_DOUBLE_EQ(decoded->outcome.timings[1].seconds, 3.5);
  EXPECT_EQ(decoded->outcome.final_image.png, report.outcome.final_image.png);
  EXPECT_EQ(decoded->outcome.final_image.width, 32);
  EXPECT_EQ(decoded->outcome.final_image.height, 24);
  ASSERT_EQ(decoded->outcome.snapshots.size(), 2u);
  EXPECT_EQ(decoded->outcome.snapshots[0].png, report.outcome.snapshots[0].png);
  EXPECT_EQ(decoded->outcome.snapshots[1].png, "snap-two");
  EXPECT_EQ(decoded->outcome.snapshots[1].step, 2);
  EXPECT_EQ(decoded->outcome.device, "cuda:1");
  EXPECT_EQ(decoded->outcome.note, "adapted layers");
}

TEST(Wire, FailedReportKeepsCodeAndMessage) {
  JobReport report;
  report.run_id = 3;
  report.status = Status::OutOfMemory("CUDA out of memory at 4096 px: try a smaller size");
  Result<JobReport> decoded = DecodeReport(EncodeReport(report));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->status.code(), StatusCode::kOutOfMemory);
  EXPECT_EQ(decoded->status.message(), report.status.message());
}

TEST(Wire, DamagedMessagesAreCorruptNotCrashes) {
  JobReport report;
  report.outcome.final_image = {"0123456789", 2, 2, 1};
  const std::string bytes = EncodeReport(report);
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{10}, bytes.size() - 1}) {
    Result<JobReport> decoded = DecodeReport(bytes.substr(0, cut));
    ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorrupt);
  }
  EXPECT_EQ(DecodeReport(bytes + "x").status().code(), StatusCode::kCorrupt);
  std::string wrong_type = EncodeHello(WorkerHello{"host", 1, 0, 9, "cpu"});
  EXPECT_EQ(DecodeReport(wrong_type).status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(DecodeAssignment(wrong_type).status().code(), StatusCode::kCorrupt);
}

TEST(Wire, HelloRoundTrip) {
  Result<WorkerHello> hello = DecodeHello(EncodeHello(WorkerHello{"node7", 3, 1, 4242, "cuda:1"}));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->host, "node7");
  EXPECT_EQ(hello->rank, 3);
  EXPECT_EQ(hello->local_rank, 1);
  EXPECT_EQ(hello->pid, 4242);
  EXPECT_EQ(hello->gpu, "cuda:1");
}

TEST(JobDevice, PlainCudaSpreadsRanksOverGpus) {
  EXPECT_EQ(ResolveJobDevice("cuda", 0, 2), "cuda:0");
  EXPECT_EQ(ResolveJobDevice("cuda", 3, 2), "cuda:1");
  EXPECT_EQ(ResolveJobDevice("cuda:0", 3, 2), "cuda:0");
  EXPECT_EQ(ResolveJobDevice("cpu", 3, 2), "cpu");
  EXPECT_EQ(ResolveJobDevice("cuda", 1, 0), "cuda");
}

}  // namespace
}  // namespace stylesweep
