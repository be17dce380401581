// Helpers for store tests: a fresh store folder per test and a few runs.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/run_store.h"

#include "tests/temp_dir.h"

namespace stylesweep::testing {

inline std::unique_ptr<RunStore> OpenOrDie(const std::string& dir, OpenMode mode = OpenMode::kReadWrite) {
  StoreOptions options;
  options.mode = mode;
  auto store = RunStore::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Adds a FINISHED run with params {style_weight, init, layers} and metrics
// loss (300 steps, last value `loss`) and time.
inline int64_t AddFinishedRun(RunStore* store, int64_t experiment, const std::string& hash, double style_weight,
                              const std::string& init, double loss, int steps = 300) {
  Params params = {{"style_weight", ParamValue::Number(style_weight)},
                   {"init", ParamValue::String(init)},
                   {"layers", ParamValue::List({ParamValue::String("relu1_1"), ParamValue::String("relu2_1")})}};
  auto id = store->EnsureRun(experiment, hash, params);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(store->StartRun(*id, "host-a", 1, "cpu").ok());
  RunResult result;
  for (int step = 0; step < steps; ++step) {
    result.metrics.push_back({"loss", step, loss + (steps - 1 - step), 1000.0 + step});
  }
  result.timings = {{"optimize", 2.5}};
  EXPECT_TRUE(store->RecordRunResult(*id, result).ok());
  return *id;
}

}  // namespace stylesweep::testing
