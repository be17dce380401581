#include "store/format.h"

#include <gtest/gtest.h>

namespace stylesweep {
namespace {

TEST(Format, NumbersReadablyForPeopleAndExactlyForMachines) {
  EXPECT_EQ(FormatNumber(1000), "1000");
  EXPECT_EQ(FormatNumber(0.00123456), "0.001235");
  EXPECT_EQ(FormatNumber(123456789.5), "1.235e+08");
  EXPECT_EQ(FormatNumberExact(0.1), "0.1");
  EXPECT_EQ(FormatNumberExact(1.0 / 3), "0.3333333333333333");
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
  EXPECT_EQ(RenderJson(table), "[\n  {\n    \"id\": 3.0,\n    \"loss\": null\n  }\n]\n");
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
  EXPECT_NE(json.find("\"path\": \"runs/artifacts/7/final-300-abcd.png\""), std::string::npos);
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
