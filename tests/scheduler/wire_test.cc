#include "scheduler/wire.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/scheduler/fake_executors.h"

namespace stylesweep {
namespace {

// Every setting of StyleOptions away from its default, so that a setting the
// wire format drops or garbles shows up in ExpectSameOptions.
StyleOptions EverySettingChanged() {
  StyleOptions o;
  o.backbone = "squeezenet1_0";
  o.weights = "/models/w.safetensors";
  o.pooling = "max";
  o.content_layers = {"fire5", "fire6"};
  o.style_layers = {"relu1", "fire2", "fire3"};
  o.style_layer_weights = {0.25, 0.5, 0.125};
  o.content_weight = 2.5;
  o.style_weight = 12345.5;
  o.tv_weight = 0.75;
  o.style_blend = {0.3, 0.7};
  o.size = 96;
  o.style_scale = 0.5;
  o.resize_filter = "mitchell";
  o.preserve_colors = "luminance";
  o.output_bit_depth = 16;
  o.init = "noise";
  o.optimizer = "adam";
  o.num_iterations = 7;
  o.scales = {{64, 3}, {96, 4}};
  o.lbfgs_history = 5;
  o.lbfgs_tolerance = 1e-4;
  o.stop_tolerance = 0.01;
  o.stop_window = 7;
  o.normalize_objective = false;
  o.learning_rate = 2.5;
  o.pixel_bounds = "none";
  o.seed = 99;
  o.device = "cuda";
  o.tf32 = true;
  o.channels_last = true;
  o.save_every = 3;
  return o;
}

// Field by field, not through StyleOptionsToMap: a setting that map forgets
// would be missing on both sides and compare equal.
void ExpectSameOptions(const StyleOptions& got, const StyleOptions& want) {
  EXPECT_EQ(got.backbone, want.backbone);
  EXPECT_EQ(got.weights, want.weights);
  EXPECT_EQ(got.pooling, want.pooling);
  EXPECT_EQ(got.content_layers, want.content_layers);
  EXPECT_EQ(got.style_layers, want.style_layers);
  EXPECT_EQ(got.style_layer_weights, want.style_layer_weights);
  EXPECT_EQ(got.content_weight, want.content_weight);
  EXPECT_EQ(got.style_weight, want.style_weight);
  EXPECT_EQ(got.tv_weight, want.tv_weight);
  EXPECT_EQ(got.style_blend, want.style_blend);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.style_scale, want.style_scale);
  EXPECT_EQ(got.resize_filter, want.resize_filter);
  EXPECT_EQ(got.preserve_colors, want.preserve_colors);
  EXPECT_EQ(got.output_bit_depth, want.output_bit_depth);
  EXPECT_EQ(got.init, want.init);
  EXPECT_EQ(got.optimizer, want.optimizer);
  EXPECT_EQ(got.num_iterations, want.num_iterations);
  EXPECT_EQ(got.scales, want.scales);
  EXPECT_EQ(got.lbfgs_history, want.lbfgs_history);
  EXPECT_EQ(got.lbfgs_tolerance, want.lbfgs_tolerance);
  EXPECT_EQ(got.stop_tolerance, want.stop_tolerance);
  EXPECT_EQ(got.stop_window, want.stop_window);
  EXPECT_EQ(got.normalize_objective, want.normalize_objective);
  EXPECT_EQ(got.learning_rate, want.learning_rate);
  EXPECT_EQ(got.pixel_bounds, want.pixel_bounds);
  EXPECT_EQ(got.seed, want.seed);
  EXPECT_EQ(got.device, want.device);
  EXPECT_EQ(got.tf32, want.tf32);
  EXPECT_EQ(got.channels_last, want.channels_last);
  EXPECT_EQ(got.save_every, want.save_every);
}

// The fields ExpectSameOptions compares. A new field of StyleOptions changes
// its size: compare the field above, set it in EverySettingChanged, then
// update both numbers.
constexpr int kComparedFields = 31;
static_assert(sizeof(StyleOptions) == 520, "StyleOptions changed: compare the new field in ExpectSameOptions");

TEST(Wire, EverySettingChangedDiffersFromTheDefaultsInEveryField) {
  // Guards the fixture itself: were a field left at its default, a codec that
  // dropped it would still pass.
  const StyleOptions changed = EverySettingChanged();
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    ExpectSameOptions(changed, StyleOptions{});
  }
  EXPECT_EQ(failures.size(), kComparedFields) << "a field of EverySettingChanged is at its default";
  const std::map<std::string, std::string> a = StyleOptionsToMap(changed);
  const std::map<std::string, std::string> b = StyleOptionsToMap(StyleOptions{});
  for (const auto& [key, value] : a) EXPECT_NE(value, b.at(key)) << key << " is at its default";
}

TEST(Wire, AssignmentRoundTripKeepsJobAndSettings) {
  JobSpec job = testing::MakeJobs(1).front();
  job.options = EverySettingChanged();
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
  ExpectSameOptions(decoded->job.options, job.options);
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
    ExpectSameOptions((*decoded)[i].job.options, jobs[i].options);
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
