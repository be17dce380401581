// Reports on snapshots (store/snapshot.h): the progress data the page shows,
// and the reload interval of report --follow.
#include "store/report_progress.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "store/report.h"
#include "store/snapshot.h"
#include "tests/report/report_fixture.h"

namespace stylesweep {
namespace {

using nlohmann::json;
using testing::TempDir;

json ReportData(const std::string& html) {
  const std::string open = "id=\"report-data\">";
  const size_t begin = html.find(open);
  const size_t end = html.find("</script>", begin);
  EXPECT_NE(begin, std::string::npos);
  return json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

class ReportProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::WriteFixtureStore(dir_.path());
    ASSERT_NE(store_, nullptr);
    snapshot_dir_ = dir_.path() + "/snapshot";
    SnapshotInfo info;
    info.experiment = testing::kFixtureExperiment;
    info.sweep_start_time =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - 3600;
    auto written = SnapshotWriter(store_->dir(), snapshot_dir_).Write(info);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }

  // The report data of the store in `dir`, built as `report` does.
  json Report(const std::string& dir, int follow_every = 0) {
    StoreOptions read_only;
    read_only.mode = OpenMode::kReadOnly;
    auto store = RunStore::Open(dir, read_only);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    ReportOptions options;
    options.experiment = testing::kFixtureExperiment;
    options.output_path = dir_.path() + "/report.html";
    options.follow_every = follow_every;
    auto summary = WriteReport(store->get(), options);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    std::ifstream in(options.output_path);
    std::stringstream html;
    html << in.rdbuf();
    return ReportData(html.str());
  }

  TempDir dir_;
  std::unique_ptr<RunStore> store_;
  std::string snapshot_dir_;
};

TEST_F(ReportProgressTest, ALiveStoreHasNoProgress) {
  EXPECT_TRUE(Report(store_->dir())["progress"].is_null());
  EXPECT_EQ(Report(store_->dir(), 10)["progress"], json({{"follow_every", 10}})) << "following: only the reload";
}

TEST_F(ReportProgressTest, ASnapshotShowsWhenItWasTakenCountsRateAndTimeLeft) {
  const json progress = Report(snapshot_dir_)["progress"];
  ASSERT_TRUE(progress.is_object()) << progress.dump();
  EXPECT_TRUE(progress["taken_time"].is_number());
  EXPECT_TRUE(progress["sweep_start_time"].is_number());
  EXPECT_EQ(progress["sweep_ended"], false);
  EXPECT_EQ(progress["source_dir"], store_->dir());
  EXPECT_EQ(progress["finished"], testing::kFixtureRuns - 1);
  EXPECT_EQ(progress["failed"], 1);
  EXPECT_EQ(progress["queued"], 0);
  EXPECT_EQ(progress["running"], 0);
  ASSERT_TRUE(progress["jobs_per_hour"].is_number());
  EXPECT_NEAR(progress["jobs_per_hour"].get<double>(), testing::kFixtureRuns - 1, 0.1);
  EXPECT_EQ(progress["seconds_left"], 0.0) << "nothing left to run";
  EXPECT_EQ(progress["follow_every"], 0);
  EXPECT_EQ(Report(snapshot_dir_, 15)["progress"]["follow_every"], 15);
}

TEST_F(ReportProgressTest, ADamagedSnapshotInfoIsShownNotFatal) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((snapshot_dir_ + "/store.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE snapshot_info; CREATE TABLE snapshot_info(x)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const json data = Report(snapshot_dir_);
  ASSERT_TRUE(data["progress"].contains("error")) << data["progress"].dump();
  EXPECT_NE(data["progress"]["error"].get<std::string>().find("damaged"), std::string::npos);
  EXPECT_EQ(data["runs"].size(), static_cast<size_t>(testing::kFixtureRuns)) << "the report itself is whole";
}

}  // namespace
}  // namespace stylesweep
