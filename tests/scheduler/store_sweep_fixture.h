// The coordinator tests' fixture: a store in a temporary folder and sweeps
// run through the local transport into it, read back by job key.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scheduler/coordinator.h"
#include "scheduler/transport.h"
#include "store/run_store.h"
#include "tests/temp_dir.h"

namespace stylesweep::testing {

class StoreSweepTest : public ::testing::Test {
 protected:
  // Opens the store; sweeps record into experiment `experiment`.
  void OpenStore(const std::string& experiment) {
    auto store = RunStore::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    spec_.name = experiment;
  }

  // One sweep of `jobs` on `executor` through the local transport.
  SweepSummary RunOneSweep(JobExecutor& executor, const std::vector<JobSpec>& jobs, const CoordinatorOptions& options) {
    LocalTransport transport(&executor, options.should_stop, WorkerHello{"host", 0, 0, 1, "cpu"});
    Result<SweepSummary> summary = RunSweep(spec_, spec_.name, "sweep text", jobs, *store_, transport, options);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    return summary.ok() ? *summary : SweepSummary{};
  }

  // Every run of the experiment, complete (metrics, artifacts), by job key.
  std::map<std::string, RunRecord> RunsByKey() {
    RunQuery query;
    query.experiment = spec_.name;
    auto runs = store_->ListRuns(query);
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    std::map<std::string, RunRecord> by_key;
    for (auto& run : *runs) {
      auto full = store_->GetRun(run.id);
      EXPECT_TRUE(full.ok());
      by_key[run.config_hash] = *full;
    }
    return by_key;
  }

  TempDir dir_;
  std::unique_ptr<RunStore> store_;
  SweepSpec spec_;
};

}  // namespace stylesweep::testing
