#include "store/merge.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "common/file_io.h"
#include "common/sha256.h"
#include "tests/store/store_test_util.h"

namespace stylesweep {
namespace {

using testing::AddFinishedRun;
using testing::OpenOrDie;
using testing::TempDir;

constexpr const char* kSweep = "name: demo\n";
constexpr const char* kSweepHash = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

int64_t Experiment(RunStore* store, const std::string& name = "demo", const std::string& hash = kSweepHash) {
  auto id = store->CreateOrGetExperiment(name, kSweep, hash, "test");
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : 0;
}

// A FINISHED run with one final image whose bytes are `image`.
int64_t AddFinishedRunWithImage(RunStore* store, int64_t experiment, const std::string& key, double loss,
                                const std::string& image) {
  const int64_t run = AddFinishedRun(store, experiment, key, 100, "content", loss, 5);
  ArtifactInput artifact;
  artifact.bytes = image;
  artifact.step = 4;
  artifact.width = 2;
  artifact.height = 1;
  EXPECT_TRUE(store->AddArtifact(run, artifact).ok());
  return run;
}

// A run recorded KILLED after one attempt (a preempted share).
int64_t AddKilledRun(RunStore* store, int64_t experiment, const std::string& key) {
  Params params = {{"style_weight", ParamValue::Number(100)},
                   {"init", ParamValue::String("content")},
                   {"layers", ParamValue::List({ParamValue::String("relu1_1"), ParamValue::String("relu2_1")})}};
  auto id = store->EnsureRun(experiment, key, params);
  EXPECT_TRUE(id.ok());
  EXPECT_TRUE(store->StartRun(*id, "host-b", 2, "cuda:1").ok());
  EXPECT_TRUE(store->LogMetrics(*id, {{"loss", 0, 99.0, 1.0}}).ok());
  EXPECT_TRUE(store->FinishRun(*id, RunStatus::kKilled, "interrupted").ok());
  return *id;
}

// Every run of `experiment` in the store at `dir`, by config hash.
std::map<std::string, RunRecord> RunsByKey(const std::string& dir, const std::string& experiment = "demo") {
  auto store = OpenOrDie(dir, OpenMode::kReadOnly);
  std::map<std::string, RunRecord> runs;
  if (!store) return runs;
  RunQuery query;
  query.experiment = experiment;
  auto listed = store->ListRuns(query);
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
  if (!listed.ok()) return runs;
  for (const RunRecord& run : *listed) {
    auto full = store->GetRun(run.id);
    EXPECT_TRUE(full.ok());
    EXPECT_TRUE(runs.emplace(run.config_hash, *full).second) << "job " << run.config_hash << " twice";
  }
  return runs;
}

class MergeTest : public ::testing::Test {
 protected:
  std::string Dir(const std::string& name) { return temp_.path() + "/" + name; }
  TempDir temp_{"merge_test"};
};

TEST_F(MergeTest, DisjointSharesBecomeOneStoreWithEverythingRecorded) {
  {
    auto a = OpenOrDie(Dir("share-0"));
    const int64_t experiment = Experiment(a.get());
    AddFinishedRunWithImage(a.get(), experiment, "key-1", 10.0, "image one");
    AddFinishedRunWithImage(a.get(), experiment, "key-3", 30.0, "image three");
    auto b = OpenOrDie(Dir("share-1"));
    AddFinishedRunWithImage(b.get(), Experiment(b.get()), "key-2", 20.0, "image two");
  }
  auto summary = MergeStores({Dir("share-0"), Dir("share-1")}, Dir("merged"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->inputs, 2);
  EXPECT_EQ(summary->runs_added, 3);
  EXPECT_EQ(summary->duplicates_skipped, 0);
  EXPECT_EQ(summary->experiments_created, 1);
  EXPECT_EQ(summary->artifacts_copied, 3);
  EXPECT_TRUE(summary->warnings.empty());

  auto runs = RunsByKey(Dir("merged"));
  ASSERT_EQ(runs.size(), 3u);
  const std::map<std::string, std::pair<double, std::string>> expected = {
      {"key-1", {10.0, "image one"}}, {"key-2", {20.0, "image two"}}, {"key-3", {30.0, "image three"}}};
  for (const auto& [key, want] : expected) {
    const RunRecord& run = runs.at(key);
    EXPECT_EQ(run.status, RunStatus::kFinished) << key;
    EXPECT_EQ(run.attempts, 1);
    EXPECT_EQ(run.host, "host-a");
    EXPECT_EQ(run.params.at("layers").ToText(), R"(["relu1_1","relu2_1"])");
    EXPECT_DOUBLE_EQ(run.latest_metrics.at("loss").value, want.first);
    ASSERT_EQ(run.timings.size(), 1u);
    EXPECT_DOUBLE_EQ(run.timings[0].seconds, 2.5);
    ASSERT_EQ(run.artifacts.size(), 1u);
    auto bytes = ReadWholeFile(Dir("merged") + "/" + run.artifacts[0].path);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(*bytes, want.second);
    EXPECT_EQ(run.artifacts[0].sha256, Sha256Hex(want.second));
  }
  auto merged = OpenOrDie(Dir("merged"), OpenMode::kReadOnly);
  auto history = merged->GetMetricHistory(runs.at("key-2").id, "loss");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 5u);
}

TEST_F(MergeTest, AJobFinishedInTwoStoresIsKeptOnce) {
  {
    auto a = OpenOrDie(Dir("a"));
    AddFinishedRunWithImage(a.get(), Experiment(a.get()), "key-1", 10.0, "from a");
    auto b = OpenOrDie(Dir("b"));
    const int64_t experiment = Experiment(b.get());
    AddFinishedRunWithImage(b.get(), experiment, "key-1", 11.0, "from b");
    AddFinishedRunWithImage(b.get(), experiment, "key-2", 20.0, "two");
  }
  auto summary = MergeStores({Dir("a"), Dir("b")}, Dir("merged"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->runs_added, 2);
  EXPECT_EQ(summary->duplicates_skipped, 1);
  auto runs = RunsByKey(Dir("merged"));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_DOUBLE_EQ(runs.at("key-1").latest_metrics.at("loss").value, 10.0);  // the first store's record stays

  // Merging the same stores again changes nothing.
  auto again = MergeStores({Dir("a"), Dir("b")}, Dir("merged"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->runs_added, 0);
  EXPECT_EQ(again->duplicates_skipped, 3);
  EXPECT_EQ(RunsByKey(Dir("merged")).size(), 2u);
}

TEST_F(MergeTest, FinishedReplacesKilledWhicheverStoreComesFirst) {
  {
    auto killed = OpenOrDie(Dir("killed"));
    AddKilledRun(killed.get(), Experiment(killed.get()), "key-1");
    auto finished = OpenOrDie(Dir("finished"));
    AddFinishedRunWithImage(finished.get(), Experiment(finished.get()), "key-1", 10.0, "done");
  }
  auto killed_first = MergeStores({Dir("killed"), Dir("finished")}, Dir("out-1"));
  ASSERT_TRUE(killed_first.ok()) << killed_first.status().ToString();
  EXPECT_EQ(killed_first->runs_added, 1);
  EXPECT_EQ(killed_first->runs_replaced, 1);
  auto finished_first = MergeStores({Dir("finished"), Dir("killed")}, Dir("out-2"));
  ASSERT_TRUE(finished_first.ok()) << finished_first.status().ToString();
  EXPECT_EQ(finished_first->runs_replaced, 0);
  EXPECT_EQ(finished_first->runs_kept, 1);

  for (const char* out : {"out-1", "out-2"}) {
    auto runs = RunsByKey(Dir(out));
    ASSERT_EQ(runs.size(), 1u) << out;
    const RunRecord& run = runs.at("key-1");
    EXPECT_EQ(run.status, RunStatus::kFinished) << out;
    EXPECT_EQ(run.host, "host-a") << out;
    EXPECT_EQ(run.error_message, "") << out;
    EXPECT_DOUBLE_EQ(run.latest_metrics.at("loss").value, 10.0) << out;  // the KILLED run's metric is gone
    auto history = OpenOrDie(Dir(out), OpenMode::kReadOnly)->GetMetricHistory(run.id, "loss");
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->size(), 5u) << out;
    ASSERT_EQ(run.artifacts.size(), 1u) << out;
  }
}

TEST_F(MergeTest, SameNameFromADifferentSweepIsMergedWithAWarning) {
  {
    auto a = OpenOrDie(Dir("a"));
    AddFinishedRun(a.get(), Experiment(a.get()), "key-1", 100, "content", 1.0);
    auto b = OpenOrDie(Dir("b"));
    AddFinishedRun(b.get(), Experiment(b.get(), "demo", std::string(64, 'b')), "key-2", 100, "content", 2.0);
    AddFinishedRun(b.get(), Experiment(b.get(), "other"), "key-1", 100, "content", 3.0);
  }
  auto summary = MergeStores({Dir("a"), Dir("b")}, Dir("merged"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->warnings.size(), 1u);
  EXPECT_NE(summary->warnings[0].find("different sweep file"), std::string::npos) << summary->warnings[0];
  EXPECT_EQ(summary->experiments_created, 2);
  EXPECT_EQ(RunsByKey(Dir("merged"), "demo").size(), 2u);
  // The same job key in another experiment is another run.
  EXPECT_EQ(RunsByKey(Dir("merged"), "other").size(), 1u);
}

TEST_F(MergeTest, AMissingArtifactFileIsLeftOutWithAWarning) {
  int64_t run = 0;
  {
    auto a = OpenOrDie(Dir("a"));
    run = AddFinishedRunWithImage(a.get(), Experiment(a.get()), "key-1", 10.0, "image");
    auto record = a->GetRun(run);
    ASSERT_TRUE(record.ok());
    std::filesystem::remove(a->ArtifactPath(record->artifacts.at(0)));
  }
  auto summary = MergeStores({Dir("a")}, Dir("merged"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->runs_added, 1);
  EXPECT_EQ(summary->artifacts_copied, 0);
  ASSERT_EQ(summary->warnings.size(), 1u);
  EXPECT_NE(summary->warnings[0].find("left out"), std::string::npos) << summary->warnings[0];
  auto runs = RunsByKey(Dir("merged"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs.at("key-1").artifacts.empty());
}

TEST_F(MergeTest, BadInputsAreClearErrorsAndLeaveTheOutputAlone) {
  {
    auto out = OpenOrDie(Dir("out"));
    AddFinishedRun(out.get(), Experiment(out.get()), "key-1", 100, "content", 1.0);
    auto a = OpenOrDie(Dir("a"));
    AddFinishedRun(a.get(), Experiment(a.get()), "key-2", 100, "content", 2.0);
  }
  auto same = MergeStores({Dir("a"), Dir("out/")}, Dir("out"));
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(same.status().message().find("both an input and the output"), std::string::npos);

  auto twice = MergeStores({Dir("a"), Dir("a")}, Dir("out"));
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("named twice"), std::string::npos);

  auto missing = MergeStores({Dir("no-such-store")}, Dir("out"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no-such-store"), std::string::npos);
  auto missing_then_new = MergeStores({Dir("a"), Dir("no-such-store")}, Dir("new-output"));
  ASSERT_FALSE(missing_then_new.ok());
  EXPECT_FALSE(std::filesystem::exists(Dir("new-output")));  // nothing created when an input is bad

  EXPECT_FALSE(MergeStores({}, Dir("out")).ok());
  auto runs = RunsByKey(Dir("out"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs.count("key-1"), 1u);

  // Merging into an existing store adds to it.
  auto added = MergeStores({Dir("a")}, Dir("out"));
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(RunsByKey(Dir("out")).size(), 2u);
}

}  // namespace
}  // namespace stylesweep
