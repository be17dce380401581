// Opens a report of the fixture sweep in headless Chromium: the page checks
// itself (#selftest: no script error, every thumbnail decoded, one curve per
// run, one table row per run) and the test reads the verdict from the DOM.
// Also fails on any "Uncaught" console message, and saves a screenshot as
// <build>/report_screenshot.png. Skips when Chromium is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "store/report.h"
#include "store/snapshot.h"
#include "tests/report/report_fixture.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

std::string FindChromium() {
  if (const char* env = std::getenv("STYLESWEEP_CHROMIUM"); env != nullptr && *env != '\0') return env;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      const fs::path candidate = fs::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Quote(const std::string& text) { return "'" + text + "'"; }

// Runs Chromium headless on `url` with `extra` flags; stdout and stderr go to
// files under `work`. Returns the exit status.
int RunChromium(const std::string& chromium, const std::string& work, const std::string& url, const std::string& extra,
                std::string* out, std::string* err) {
  const std::string out_path = work + "/chromium.out", err_path = work + "/chromium.err";
  const std::string command =
      "timeout 120 " + Quote(chromium) +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
      " --disable-component-update --disable-sync --disable-dev-shm-usage --enable-logging=stderr --v=0"
      " --user-data-dir=" + Quote(work + "/profile") + " " + extra + " " + Quote(url) + " >" + Quote(out_path) +
      " 2>" + Quote(err_path);
  const int status = std::system(command.c_str());
  *out = ReadFile(out_path);
  *err = ReadFile(err_path);
  return status;
}

// Opens `report` with #selftest and returns the page's verdict (null when
// the page did not run its self test). Fails the test on a Chromium error or
// an "Uncaught" console message.
nlohmann::json SelfTest(const std::string& chromium, const std::string& work, const std::string& report) {
  std::string out, err;
  const std::string url = "file://" + fs::absolute(report).string() + "#selftest";
  EXPECT_EQ(RunChromium(chromium, work, url, "--virtual-time-budget=5000 --dump-dom", &out, &err), 0) << err;
  EXPECT_EQ(err.find("Uncaught"), std::string::npos) << err;
  const std::string open = "<pre id=\"selftest-result\">", close = "</pre>";
  const size_t begin = out.find(open);
  EXPECT_NE(begin, std::string::npos) << "the page did not run its self test:\n" << err;
  if (begin == std::string::npos) return nullptr;
  const size_t end = out.find(close, begin);
  return nlohmann::json::parse(out.substr(begin + open.size(), end - begin - open.size()));
}

TEST(ReportInBrowser, ComparedRunsRenderWithoutErrors) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium, or set STYLESWEEP_CHROMIUM)";
  }
  testing::TempDir dir;
  auto store = testing::WriteFixtureStore(dir.path());
  ASSERT_NE(store, nullptr);
  ReportOptions options;
  options.runs = {"1", "5", "6"};
  options.output_path = store->dir() + "/compare.html";
  ASSERT_TRUE(WriteReport(store.get(), options).ok());
  const nlohmann::json result = SelfTest(chromium, dir.path(), options.output_path);
  ASSERT_FALSE(result.is_null());
  EXPECT_TRUE(result["ok"].get<bool>()) << result.dump();
  EXPECT_EQ(result["images"], 2 + 2 * 3) << result.dump();  // two results (run 5 failed), content and style per card
  EXPECT_EQ(result["table_rows"], 3);
  EXPECT_EQ(result["failures"], 1);
}

TEST(ReportInBrowser, FixtureSweepRendersWithoutErrors) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium, or set STYLESWEEP_CHROMIUM)";
  }
  testing::TempDir dir;
  auto store = testing::WriteFixtureStore(dir.path());
  ASSERT_NE(store, nullptr);
  ReportOptions options;
  options.experiment = testing::kFixtureExperiment;
  options.output_path = DefaultReportPath(store->dir(), options.experiment);
  auto summary = WriteReport(store.get(), options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const std::string url = "file://" + fs::absolute(options.output_path).string();

  const nlohmann::json result = SelfTest(chromium, dir.path(), options.output_path);
  ASSERT_FALSE(result.is_null());
  EXPECT_EQ(result["errors"].size(), 0u) << result.dump();
  EXPECT_EQ(result["broken_images"].size(), 0u) << result.dump();
  EXPECT_EQ(result["images"], 5 + 2) << result.dump();  // five finished runs, one content, one style
  EXPECT_EQ(result["curves"], testing::kFixtureRuns);
  EXPECT_EQ(result["table_rows"], testing::kFixtureRuns);
  EXPECT_EQ(result["grid_cells"], testing::kFixtureRuns);
  EXPECT_EQ(result["pc_lines"], testing::kFixtureRuns);
  EXPECT_EQ(result["failures"], 1);
  EXPECT_EQ(result["interactions"],
            nlohmann::json({{"highlight", true}, {"unhighlight", true}, {"sort", true}, {"tooltip", true},
                            {"score_tooltip", true}, {"score_click", true}}))
      << result.dump();
  // The judged scores: one point per scored run, the front (runs 0, 1, 2),
  // and a table of median scores per value of each swept param.
  EXPECT_EQ(result["score_points"], testing::kFixtureRuns - 1) << result.dump();
  EXPECT_EQ(result["front_points"], 3) << result.dump();
  EXPECT_EQ(result["score_tables"], 2) << result.dump();  // style_layers, alpha_beta
  EXPECT_TRUE(result["ok"].get<bool>()) << result.dump();

  const std::string screenshot = std::string(STYLESWEEP_BUILD_DIR) + "/report_screenshot.png";
  fs::remove(screenshot);
  std::string out, err;
  ASSERT_EQ(RunChromium(chromium, dir.path(), url, "--hide-scrollbars --window-size=1400,2400 --screenshot=" + Quote(screenshot), &out, &err), 0)
      << err;
  EXPECT_EQ(err.find("Uncaught"), std::string::npos) << err;
  ASSERT_TRUE(fs::exists(screenshot)) << err;
  EXPECT_GT(fs::file_size(screenshot), 10000u);
}

TEST(ReportInBrowser, SnapshotProgressRendersWithoutErrors) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium, or set STYLESWEEP_CHROMIUM)";
  }
  testing::TempDir dir;
  auto live = testing::WriteFixtureStore(dir.path());
  ASSERT_NE(live, nullptr);
  const std::string snapshot_dir = dir.path() + "/snapshot";
  SnapshotInfo info;
  info.experiment = testing::kFixtureExperiment;
  info.sweep_start_time = 1;  // long ago: a rate, and nothing left
  ASSERT_TRUE(SnapshotWriter(live->dir(), snapshot_dir).Write(info).ok());
  StoreOptions read_only;
  read_only.mode = OpenMode::kReadOnly;
  auto snapshot = RunStore::Open(snapshot_dir, read_only);
  ASSERT_TRUE(snapshot.ok());
  ReportOptions options;
  options.experiment = testing::kFixtureExperiment;
  options.output_path = snapshot_dir + "/report.html";
  options.follow_every = 5;  // not under #selftest
  ASSERT_TRUE(WriteReport(snapshot->get(), options).ok());
  const nlohmann::json result = SelfTest(chromium, dir.path(), options.output_path);
  ASSERT_FALSE(result.is_null());
  EXPECT_TRUE(result["ok"].get<bool>()) << result.dump();
  std::string out, err;
  const std::string url = "file://" + fs::absolute(options.output_path).string() + "#selftest";
  ASSERT_EQ(RunChromium(chromium, dir.path(), url, "--virtual-time-budget=3000 --dump-dom", &out, &err), 0) << err;
  EXPECT_NE(out.find("Snapshot taken "), std::string::npos) << out.substr(0, 4000);
  EXPECT_NE(out.find(">5 finished<"), std::string::npos);
  EXPECT_NE(out.find(">1 failed<"), std::string::npos);
  EXPECT_NE(out.find(">0 queued<"), std::string::npos);
  EXPECT_NE(out.find("jobs/h since the sweep started"), std::string::npos);
  EXPECT_NE(out.find("This page reloads itself every 5 s"), std::string::npos);
}

}  // namespace
}  // namespace stylesweep
