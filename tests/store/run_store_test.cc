#include "store/run_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>

#include "common/file_io.h"
#include "common/sha256.h"
#include "tests/store/store_test_util.h"

namespace stylesweep {
namespace {

using testing::AddFinishedRun;
using testing::OpenOrDie;
using testing::TempDir;

std::vector<int64_t> Ids(const Result<std::vector<RunRecord>>& runs) {
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
  std::vector<int64_t> ids;
  if (runs.ok()) {
    for (const auto& run : *runs) ids.push_back(run.id);
  }
  return ids;
}

class RunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenOrDie(dir_.path());
    ASSERT_NE(store_, nullptr);
    auto experiment = store_->CreateOrGetExperiment("fig3", "sweep: yaml", "abc", "0.1.0");
    ASSERT_TRUE(experiment.ok());
    experiment_ = *experiment;
    a_ = AddFinishedRun(store_.get(), experiment_, "aaaa1111", 1e3, "noise", 5.0);
    b_ = AddFinishedRun(store_.get(), experiment_, "bbbb2222", 1e4, "content", 3.0);
    c_ = AddFinishedRun(store_.get(), experiment_, "cccc3333", 50, "style", 9.0);
    auto queued = store_->EnsureRun(experiment_, "dddd4444", {{"style_weight", ParamValue::Number(7)}});
    ASSERT_TRUE(queued.ok());
    d_ = *queued;
  }

  Result<std::vector<RunRecord>> Where(const std::string& filter, std::vector<std::string> sort = {}) {
    RunQuery query;
    query.where = filter;
    query.sort = std::move(sort);
    return store_->ListRuns(query);
  }

  TempDir dir_;
  std::unique_ptr<RunStore> store_;
  int64_t experiment_ = 0, a_ = 0, b_ = 0, c_ = 0, d_ = 0;
};

TEST_F(RunStoreTest, RecordsAWholeRunAndReadsItBack) {
  auto run = store_->GetRun(a_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kFinished);
  EXPECT_EQ(run->attempts, 1);
  EXPECT_EQ(run->host, "host-a");
  EXPECT_EQ(run->experiment, "fig3");
  EXPECT_EQ(run->params.at("style_weight"), ParamValue::Number(1000));
  EXPECT_EQ(run->params.at("layers").ToText(), "[\"relu1_1\",\"relu2_1\"]");
  EXPECT_EQ(run->params.at("layers").items.size(), 2u);
  EXPECT_EQ(run->latest_metrics.at("loss").step, 299);
  EXPECT_DOUBLE_EQ(run->latest_metrics.at("loss").value, 5.0);
  ASSERT_EQ(run->timings.size(), 1u);
  auto history = store_->GetMetricHistory(a_, "loss");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 300u);
}

TEST_F(RunStoreTest, EnsureRunIsIdempotentAndParamsAreImmutable) {
  Params params = {{"style_weight", ParamValue::Number(7)}};
  auto again = store_->EnsureRun(experiment_, "dddd4444", params);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, d_);
  params["style_weight"] = ParamValue::Number(8);
  auto changed = store_->EnsureRun(experiment_, "dddd4444", params);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.status().message().find("style_weight"), std::string::npos);
  EXPECT_NE(changed.status().message().find("immutable"), std::string::npos);
}

TEST_F(RunStoreTest, ListRunStatesFindsEachRunByItsExactHash) {
  auto states = store_->ListRunStates(experiment_);
  ASSERT_TRUE(states.ok()) << states.status().ToString();
  ASSERT_EQ(states->size(), 4u);
  const RunState* finished = states->Find("bbbb2222");
  ASSERT_NE(finished, nullptr);
  EXPECT_EQ(finished->id, b_);
  EXPECT_EQ(finished->status, RunStatus::kFinished);
  const RunState* queued = states->Find("dddd4444");
  ASSERT_NE(queued, nullptr);
  EXPECT_EQ(queued->status, RunStatus::kQueued);
  EXPECT_EQ(states->Find("bbbb"), nullptr);  // a prefix is not a hash
  EXPECT_EQ(states->Find("zzzz"), nullptr);
  auto none = store_->ListRunStates(experiment_ + 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(RunStoreTest, CreateRunsAddsQueuedRunsWithParamsAcrossTransactions) {
  std::vector<std::string> hashes;
  for (int i = 0; i < 250; ++i) hashes.push_back("new" + std::to_string(1000 + i));
  std::vector<std::size_t> asked;
  auto ids = store_->CreateRuns(
      experiment_, hashes,
      [&](std::size_t i) {
        asked.push_back(i);
        return Params{{"index", ParamValue::Number(static_cast<double>(i))}};
      },
      /*runs_per_transaction=*/64);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 250u);
  EXPECT_EQ(asked.size(), 250u);
  auto run = store_->GetRun((*ids)[137]);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->config_hash, "new1137");
  EXPECT_EQ(run->status, RunStatus::kQueued);
  EXPECT_EQ(run->params.at("index"), ParamValue::Number(137));
  auto states = store_->ListRunStates(experiment_);
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(states->size(), 254u);
  // EnsureRun agrees with the runs made in bulk.
  auto again = store_->EnsureRun(experiment_, "new1137", {{"index", ParamValue::Number(137)}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, (*ids)[137]);
}

TEST_F(RunStoreTest, CreateRunsRefusesAHashTheExperimentHasAndKeepsEarlierChunks) {
  const std::vector<std::string> hashes = {"e1", "e2", "dddd4444", "e3"};
  auto ids = store_->CreateRuns(experiment_, hashes, [](std::size_t) { return Params{}; }, /*runs_per_transaction=*/2);
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("runs 3-4"), std::string::npos) << ids.status().ToString();
  auto states = store_->ListRunStates(experiment_);
  ASSERT_TRUE(states.ok());
  EXPECT_NE(states->Find("e2"), nullptr);  // the first transaction committed
  EXPECT_EQ(states->Find("e3"), nullptr);  // the failing one changed nothing
  EXPECT_EQ(store_->CreateRuns(experiment_ + 100, {"x"}, [](std::size_t) { return Params{}; }).status().code(),
            StatusCode::kNotFound);
}

TEST_F(RunStoreTest, StatusTransitionsAreChecked) {
  EXPECT_EQ(store_->FinishRun(d_, RunStatus::kFinished).code(), StatusCode::kInvalidArgument);  // still QUEUED
  EXPECT_EQ(store_->StartRun(a_, "h", 0, "cpu").code(), StatusCode::kInvalidArgument);          // FINISHED
  ASSERT_TRUE(store_->StartRun(d_, "h", 0, "cpu").ok());
  EXPECT_EQ(store_->StartRun(d_, "h", 0, "cpu").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->FinishRun(d_, RunStatus::kFailed, "out of memory").ok());
  ASSERT_TRUE(store_->StartRun(d_, "h", 0, "cpu").ok());  // a failed run may be retried
  auto run = store_->GetRun(d_);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->attempts, 2);
  EXPECT_EQ(run->error_message, "");
}

TEST_F(RunStoreTest, RequeueLeavesNoRunRunning) {
  ASSERT_TRUE(store_->StartRun(d_, "h", 0, "cpu").ok());
  auto changed = store_->RequeueUnfinished(experiment_);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 1);
  EXPECT_EQ(Ids(Where("status = 'running'")).size(), 0u);
  EXPECT_EQ(Ids(Where("status = 'queued'")), std::vector<int64_t>{d_});
  ASSERT_TRUE(store_->StartRun(d_, "h", 0, "cpu").ok());
  ASSERT_TRUE(store_->RequeueUnfinished(experiment_, RunStatus::kKilled).ok());
  EXPECT_EQ(Ids(Where("status = 'KILLED'")), std::vector<int64_t>{d_});
}

TEST_F(RunStoreTest, EveryQueryForm) {
  EXPECT_EQ(Ids(Where("params.style_weight > 100")), (std::vector<int64_t>{a_, b_}));
  EXPECT_EQ(Ids(Where("params.style_weight >= 1e3 and params.style_weight < 1e4")), std::vector<int64_t>{a_});
  EXPECT_EQ(Ids(Where("params.init = 'noise' or params.init = \"style\"")), (std::vector<int64_t>{a_, c_}));
  EXPECT_EQ(Ids(Where("not params.init = 'noise'")), (std::vector<int64_t>{b_, c_}));
  EXPECT_EQ(Ids(Where("params.init in ('content', 'style')")), (std::vector<int64_t>{b_, c_}));
  EXPECT_EQ(Ids(Where("params.init not in ('content', 'style')")), std::vector<int64_t>{a_});
  EXPECT_EQ(Ids(Where("params.style_weight in (50, 7)")), (std::vector<int64_t>{c_, d_}));
  EXPECT_EQ(Ids(Where("params.init like 'co%'")), std::vector<int64_t>{b_});
  EXPECT_EQ(Ids(Where("params.layers like '%relu2_1%'")), (std::vector<int64_t>{a_, b_, c_}));
  EXPECT_EQ(Ids(Where("metrics.loss < 6")), (std::vector<int64_t>{a_, b_}));
  EXPECT_EQ(Ids(Where("metrics.loss is null")), std::vector<int64_t>{d_});
  EXPECT_EQ(Ids(Where("status = 'finished' and attempts = 1 and duration >= 0")), (std::vector<int64_t>{a_, b_, c_}));
  // Precedence: and binds tighter than or; parentheses override.
  EXPECT_EQ(Ids(Where("params.init = 'style' or params.init = 'noise' and metrics.loss < 6")),
            (std::vector<int64_t>{a_, c_}));
  EXPECT_EQ(Ids(Where("(params.init = 'style' or params.init = 'noise') and metrics.loss > 6")),
            std::vector<int64_t>{c_});
  EXPECT_EQ(Ids(Where("(params.init = 'style' or params.init = 'noise') and metrics.loss < 6")),
            std::vector<int64_t>{a_});
  // Sorting, missing values last, and limits.
  EXPECT_EQ(Ids(Where("", {"metrics.loss"})), (std::vector<int64_t>{b_, a_, c_, d_}));
  EXPECT_EQ(Ids(Where("", {"metrics.loss:desc"})), (std::vector<int64_t>{c_, a_, b_, d_}));
  RunQuery limited;
  limited.sort = {"params.style_weight:desc"};
  limited.limit = 2;
  limited.experiment = "fig3";
  EXPECT_EQ(Ids(store_->ListRuns(limited)), (std::vector<int64_t>{b_, a_}));
  limited.experiment = "fig4";
  EXPECT_EQ(store_->ListRuns(limited).status().code(), StatusCode::kNotFound);
}

TEST_F(RunStoreTest, InjectionAttemptsMatchNothingAndChangeNothing) {
  const std::vector<std::string> attacks = {
      "params.init = '1''; DROP TABLE runs; --'",
      "params.init = 'noise'' OR 1=1 --'",
      "params.init like '%'' or ''1''=''1'",
      "`params.init' OR 1=1 --` = 'x'",
  };
  for (const std::string& attack : attacks) {
    auto runs = Where(attack);
    if (runs.ok()) {
      EXPECT_TRUE(runs->empty()) << attack;
    } else {
      EXPECT_EQ(runs.status().code(), StatusCode::kInvalidArgument) << attack;
    }
  }
  EXPECT_FALSE(Where("params.init = 'x'; DROP TABLE runs").ok());
  EXPECT_EQ(Ids(Where("")).size(), 4u);
  auto run = store_->GetRun(a_);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->params.at("init").text, "noise");
}

TEST_F(RunStoreTest, UnknownKeysAreErrorsWithSuggestions) {
  auto runs = Where("params.style_wieght > 1");
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(runs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(runs.status().message().find("did you mean 'params.style_weight'"), std::string::npos)
      << runs.status().message();
  auto sort = Where("", {"metrics.los"});
  ASSERT_FALSE(sort.ok());
  EXPECT_NE(sort.status().message().find("metrics.loss"), std::string::npos) << sort.status().message();
}

TEST_F(RunStoreTest, ResolvesIdsAndHashPrefixes) {
  EXPECT_EQ(*store_->ResolveRunId(std::to_string(b_)), b_);
  EXPECT_EQ(*store_->ResolveRunId("bbbb22"), b_);
  EXPECT_EQ(store_->ResolveRunId("zzzz").status().code(), StatusCode::kNotFound);
  AddFinishedRun(store_.get(), experiment_, "bbbb9999", 1, "noise", 1);
  auto ambiguous = store_->ResolveRunId("bbbb");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.status().message().find("several runs"), std::string::npos);
}

TEST_F(RunStoreTest, ArtifactsAreFilesWithTheirHash) {
  ArtifactInput input;
  input.kind = ArtifactKind::kFinal;
  input.step = 300;
  input.bytes = "not really a png";
  input.width = 64;
  input.height = 48;
  auto artifact = store_->AddArtifact(a_, input);
  ASSERT_TRUE(artifact.ok()) << artifact.status().ToString();
  auto bytes = ReadWholeFile(store_->ArtifactPath(*artifact));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, input.bytes);
  EXPECT_EQ(artifact->sha256, Sha256Hex(input.bytes));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Replacing the same (kind, step) removes the old file.
  input.bytes = "another image";
  auto replaced = store_->AddArtifact(a_, input);
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(std::filesystem::exists(store_->ArtifactPath(*artifact)));
  auto run = store_->GetRun(a_);
  ASSERT_EQ(run->artifacts.size(), 1u);
  EXPECT_EQ(run->artifacts[0].sha256, Sha256Hex("another image"));
  // No temporary files are left behind.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path() + "/artifacts")) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(RunStoreTest, NanMetricsRoundTrip) {
  ASSERT_TRUE(store_->StartRun(d_, "h", 0, "cpu").ok());
  ASSERT_TRUE(store_->LogMetrics(d_, {{"loss", 0, std::nan(""), 1.0}}).ok());
  auto run = store_->GetRun(d_);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(std::isnan(run->latest_metrics.at("loss").value));
}

TEST_F(RunStoreTest, ReadOnlyStoresRefuseWritesAndSeeCommittedRuns) {
  auto reader = OpenOrDie(dir_.path(), OpenMode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->StartRun(d_, "h", 0, "cpu").code(), StatusCode::kInvalidArgument);
  auto experiments = reader->ListExperiments();
  ASSERT_TRUE(experiments.ok());
  ASSERT_EQ(experiments->size(), 1u);
  EXPECT_EQ(experiments->at(0).run_counts.at(RunStatus::kFinished), 3);
  EXPECT_EQ(experiments->at(0).run_counts.at(RunStatus::kQueued), 1);
}

TEST(RunStoreOpen, MissingStoreIsAClearErrorForReaders) {
  TempDir dir;
  StoreOptions options;
  options.mode = OpenMode::kReadOnly;
  auto store = RunStore::Open(dir.path() + "/nothing", options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_NE(store.status().message().find("no experiment store"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/nothing"));
}

}  // namespace
}  // namespace stylesweep
