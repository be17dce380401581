#include "store/format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace stylesweep {
namespace {

TEST(Format, NumbersReadablyForPeopleAndExactlyForMachines) {
  EXPECT_EQ(FormatNumber(1000), "1000");
  EXPECT_EQ(FormatNumber(0.00123456), "0.001235");
  EXPECT_EQ(FormatNumber(123456789.5), "1.235e+08");
  EXPECT_EQ(FormatNumberExact(0.1), "0.1");
  EXPECT_EQ(FormatNumberExact(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatNumberExact(1000), "1000");  // a run id in CSV, not "1e+03"
  EXPECT_EQ(FormatNumberExact(-42), "-42");
  EXPECT_EQ(FormatNumberExact(1e-5), "1e-05");
  EXPECT_EQ(FormatDuration(245), "4m05s");
}

TEST(Format, TablesAlignAndRightAlignNumbers) {
  Table table;
  table.header = {"id", "init", "loss"};
  table.rows = {{Cell::Number(1), Cell::Text("noise"), Cell::Number(12.5)},
                {Cell::Number(10), Cell::Text("content"), Cell::Missing()}};
  EXPECT_EQ(RenderTable(table),
            "id  init     loss\n"
            "--  -------  ----\n"
            " 1  noise    12.5\n"
            "10  content     -\n");
}

TEST(Format, LargeWholeLossesPrintLikeTheirNeighboursAndCountsInFull) {
  EXPECT_EQ(FormatNumber(999999), "999999");
  Table table;
  table.header = {"style_loss", "runs"};
  // Float32 losses above 2^24 are whole numbers; they are measures all the same.
  table.rows = {{Cell::Number(6627095.5), Cell::Integer(1500000)}, {Cell::Number(27374586), Cell::Integer(12)}};
  EXPECT_EQ(RenderTable(table),
            "style_loss     runs\n"
            "----------  -------\n"
            " 6.627e+06  1500000\n"
            " 2.737e+07       12\n");
  // CSV keeps every digit either way.
  EXPECT_EQ(RenderCsv(table), "style_loss,runs\r\n6627095.5,1500000\r\n27374586,12\r\n");
}

TEST(Format, CsvQuotesWhatNeedsQuoting) {
  Table table;
  table.header = {"id", "note"};
  table.rows = {{Cell::Number(1), Cell::Text("a, \"b\"\nc")}, {Cell::Number(2), Cell::Missing()}};
  EXPECT_EQ(RenderCsv(table), "id,note\r\n1,\"a, \"\"b\"\"\nc\"\r\n2,\r\n");
}

TEST(Format, JsonKeepsNumbersAndNulls) {
  Table table;
  table.header = {"id", "loss"};
  table.rows = {{Cell::Number(3), Cell::Missing()}};
  EXPECT_EQ(RenderJson(table), "[\n  {\n    \"id\": 3,\n    \"loss\": null\n  }\n]\n");
}

TEST(Format, JsonPrintsWholeNumbersAsIntegersAndListsAsArrays) {
  RunRecord run;
  run.id = 12;
  run.attempts = 2;
  run.params["num_iterations"] = ParamValue::Number(500);
  run.params["alpha_beta"] = ParamValue::Number(1e-3);
  run.params["style_paths"] = ParamValue::List({ParamValue::String("/a/starry.jpg"), ParamValue::String("/a/scream.jpg")});
  run.params["style_layer_weights"] = ParamValue::List({ParamValue::Number(0.5), ParamValue::Number(2)});
  run.latest_metrics["total_loss"] = MetricPoint{"total_loss", 80, 1234.0, 0};
  run.latest_metrics["style_loss"] = MetricPoint{"style_loss", 80, std::nan(""), 0};
  const std::vector<std::string> columns = {"id", "attempts", "params.num_iterations", "params.alpha_beta",
                                            "params.style_paths", "params.style_layer_weights",
                                            "metrics.total_loss", "metrics.style_loss"};
  const nlohmann::json rows = nlohmann::json::parse(RenderJson(RunsTable({run}, columns)));
  const nlohmann::json& row = rows.at(0);
  EXPECT_TRUE(row.at("id").is_number_integer()) << row.dump();
  EXPECT_EQ(row.at("id").dump(), "12");
  EXPECT_TRUE(row.at("attempts").is_number_integer());
  EXPECT_TRUE(row.at("params.num_iterations").is_number_integer());
  EXPECT_TRUE(row.at("params.alpha_beta").is_number_float());
  EXPECT_EQ(row.at("params.style_paths"), nlohmann::json({"/a/starry.jpg", "/a/scream.jpg"}));
  EXPECT_EQ(row.at("params.style_layer_weights").dump(), "[0.5,2]");
  EXPECT_TRUE(row.at("metrics.total_loss").is_number_integer());
  EXPECT_EQ(row.at("metrics.style_loss"), "nan");
  // The table and CSV keep the list's text.
  EXPECT_NE(RenderCsv(RunsTable({run}, columns)).find("[\"\"/a/starry.jpg\"\",\"\"/a/scream.jpg\"\"]"),
            std::string::npos);

  const nlohmann::json exported = nlohmann::json::parse(ExportJson({run}, "runs")).at(0);
  EXPECT_TRUE(exported.at("id").is_number_integer());
  EXPECT_TRUE(exported.at("params").at("num_iterations").is_number_integer());
  EXPECT_TRUE(exported.at("params").at("style_paths").is_array());
  EXPECT_TRUE(exported.at("metrics").at("total_loss").is_number_integer());
}

TEST(Format, IdentifierMetricsPrintInFullInEveryTableAndAsJsonIntegers) {
  constexpr double kJudgeId = 63601234567891;  // a judge's id is about this large
  RunRecord a, b;
  a.id = 1;
  b.id = 2;
  for (RunRecord* run : {&a, &b}) {
    run->latest_metrics["eval/judge_id"] = MetricPoint{"eval/judge_id", 80, kJudgeId, 0};
    run->latest_metrics["total_loss"] = MetricPoint{"total_loss", 80, 32000002048.0, 0};  // whole, but a measure
  }
  const std::vector<std::string> columns = {"id", "metrics.eval/judge_id", "metrics.total_loss"};
  const std::string table = RenderTable(RunsTable({a, b}, columns));
  EXPECT_NE(table.find("63601234567891"), std::string::npos) << table;
  EXPECT_EQ(table.find("e+13"), std::string::npos) << table;
  EXPECT_NE(table.find("3.2e+10"), std::string::npos) << "losses stay readable\n" << table;
  const std::string details = RenderRunDetails(a, "runs");
  EXPECT_NE(details.find("63601234567891"), std::string::npos) << details;
  const std::string compared = RenderTable(CompareTable({a, b}));
  EXPECT_NE(compared.find("63601234567891"), std::string::npos) << compared;

  const nlohmann::json rows = nlohmann::json::parse(RenderJson(RunsTable({a}, columns)));
  EXPECT_TRUE(rows.at(0).at("metrics.eval/judge_id").is_number_integer()) << rows.dump();
  EXPECT_EQ(rows.at(0).at("metrics.eval/judge_id").get<std::int64_t>(), 63601234567891);
  const nlohmann::json exported = nlohmann::json::parse(ExportJson({a}, "runs")).at(0);
  EXPECT_EQ(exported.at("metrics").at("eval/judge_id").dump(), "63601234567891");
}

TEST(Format, CompareJsonKeepsTypesToo) {
  RunRecord a, b;
  a.id = 1;
  b.id = 2;
  a.params["size"] = ParamValue::Number(256);
  b.params["size"] = ParamValue::Number(512);
  const nlohmann::json rows = nlohmann::json::parse(RenderJson(CompareTable({a, b})));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.dump().find(".0"), std::string::npos) << rows.dump();
}

TEST(Format, ExportsCarryRunIdAndArtifactPaths) {
  RunRecord run;
  run.id = 7;
  run.experiment = "fig3";
  run.params["style_weight"] = ParamValue::Number(1e3);
  Artifact artifact;
  artifact.kind = ArtifactKind::kFinal;
  artifact.path = "artifacts/7/final-300-abcd.png";
  run.artifacts = {artifact};
  const std::string csv = RenderCsv(ExportTable({run}, "runs"));
  EXPECT_EQ(csv.rfind("id,", 0), 0u);
  EXPECT_NE(csv.find("runs/artifacts/7/final-300-abcd.png"), std::string::npos);
  const std::string json = ExportJson({run}, "runs");
  EXPECT_NE(json.find("\"id\": 7"), std::string::npos);
  // A run that never started has no host, rank or error: null, not "" or -1.
  const nlohmann::json exported = nlohmann::json::parse(json).at(0);
  for (const char* key : {"host", "rank", "device", "start_time", "error"}) {
    EXPECT_TRUE(exported.at(key).is_null()) << key << ": " << exported.at(key).dump();
  }
  EXPECT_NE(json.find("\"path\": \"runs/artifacts/7/final-300-abcd.png\""), std::string::npos);
}

TEST(Format, AMistypedColumnIsRefusedWithTheClosestKnownOne) {
  const std::vector<std::string> params = {"alpha_beta", "size"};
  const std::vector<std::string> metrics = {"total_loss", "eval/judge_id"};
  EXPECT_TRUE(CheckRunColumns({"id", "duration", "params.alpha_beta", "metrics.eval/judge_id"}, params, metrics).ok());
  const Status typo = CheckRunColumns({"id", "params.alpha_bta"}, params, metrics);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(typo.message().rfind("--columns: unknown column 'params.alpha_bta' (did you mean 'params.alpha_beta'?)", 0),
            0u)
      << typo.message();
  EXPECT_FALSE(CheckRunColumns({"metrics.size"}, params, metrics).ok()) << "size is a param, not a metric";
}

TEST(Format, DefaultColumnsShowParamsThatDiffer) {
  RunRecord a, b;
  a.params = {{"init", ParamValue::String("noise")}, {"size", ParamValue::Number(512)}};
  b.params = {{"init", ParamValue::String("content")}, {"size", ParamValue::Number(512)}};
  const auto columns = DefaultRunColumns({a, b});
  EXPECT_NE(std::find(columns.begin(), columns.end(), "params.init"), columns.end());
  EXPECT_EQ(std::find(columns.begin(), columns.end(), "params.size"), columns.end());
}

}  // namespace
}  // namespace stylesweep
