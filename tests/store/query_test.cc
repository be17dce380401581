#include "store/query.h"

#include "common/text.h"

#include <gtest/gtest.h>

namespace stylesweep::query {
namespace {

QuerySchema Schema() {
  QuerySchema schema;
  schema.params["style_weight"] = {true, false};
  schema.params["init"] = {false, true};
  schema.params["mixed"] = {true, true};
  schema.params["tf32"] = {false, true};
  schema.metrics["loss"] = 1;
  schema.metrics["loss/style"] = 2;
  return schema;
}

std::string Error(const std::string& filter) {
  auto compiled = Compile(filter, {}, Schema());
  EXPECT_FALSE(compiled.ok()) << filter;
  return compiled.ok() ? "" : compiled.status().message();
}

TEST(Query, AndBindsTighterThanOr) {
  auto compiled = Compile("params.init = 'a' or params.init = 'b' and not metrics.loss > 1", {}, Schema());
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_EQ(compiled->where, "((p0.text_value = ?2) OR ((p0.text_value = ?3) AND (NOT (m0.value > ?5))))");
}

TEST(Query, LiteralsAreBoundNeverSpliced) {
  const std::string attack = "x'); DROP TABLE runs; --";
  auto compiled = Compile("params.init = 'x''); DROP TABLE runs; --'", {}, Schema());
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->where.find("DROP"), std::string::npos);
  ASSERT_EQ(compiled->bindings.size(), 2u);
  EXPECT_EQ(std::get<std::string>(compiled->bindings[1]), attack);
}

TEST(Query, NumericAndTextComparisonsFollowTheKeyType) {
  auto numeric = Compile("params.style_weight > 100", {}, Schema());
  ASSERT_TRUE(numeric.ok());
  EXPECT_NE(numeric->where.find("num_value"), std::string::npos);
  auto mixed_text = Compile("params.mixed = 'abc'", {}, Schema());
  ASSERT_TRUE(mixed_text.ok());
  EXPECT_NE(mixed_text->where.find("text_value"), std::string::npos);
  EXPECT_NE(Error("params.style_weight > '100'").find("is a number; compare it with a number"), std::string::npos);
  EXPECT_NE(Error("params.init > 3").find("holds text"), std::string::npos);
  EXPECT_NE(Error("metrics.loss like 'a%'").find("'like' matches text"), std::string::npos);
  EXPECT_NE(Error("status = 'done'").find("unknown run status 'done'"), std::string::npos);
}

// JSON output prints an on/off setting as true or false; the filter takes
// the same bare words, or the stored text in quotes.
TEST(Query, BareTrueAndFalseAreTheStoredTextOfAnOnOffSetting) {
  for (const char* filter : {"params.tf32 = true", "params.tf32 = TRUE", "params.tf32 = 'true'"}) {
    auto compiled = Compile(filter, {}, Schema());
    ASSERT_TRUE(compiled.ok()) << filter << ": " << compiled.status().message();
    EXPECT_EQ(compiled->where, "(p0.text_value = ?2)") << filter;
    ASSERT_EQ(compiled->bindings.size(), 2u) << filter;
    EXPECT_EQ(std::get<std::string>(compiled->bindings[1]), "true") << filter;
  }
  auto listed = Compile("params.tf32 in (false, 'true')", {}, Schema());
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->bindings.size(), 3u);
  EXPECT_EQ(std::get<std::string>(listed->bindings[1]), "false");
  EXPECT_NE(Error("params.style_weight = true").find("is a number; compare it with a number"), std::string::npos);
}

TEST(Query, ErrorsPointAtTheColumn) {
  const std::string message = Error("params.init = 'a' and (metrics.loss > 1");
  EXPECT_NE(message.find("expected ')'"), std::string::npos) << message;
  EXPECT_NE(message.find("at column 40"), std::string::npos) << message;
  EXPECT_NE(Error("params.init = 'a").find("unterminated string at column 15"), std::string::npos);
  EXPECT_NE(Error("params.init = 'a'; DROP TABLE runs").find("unexpected character ';' at column 18"),
            std::string::npos);
  EXPECT_NE(Error("metrics.loss >").find("found the end"), std::string::npos);
  EXPECT_NE(Error("params.init in ()").find("expected a value in the 'in' list"), std::string::npos);
}

TEST(Query, UnknownKeysSuggestTheClosest) {
  EXPECT_NE(Error("params.stlye_weight > 1").find("did you mean 'params.style_weight'"), std::string::npos);
  EXPECT_NE(Error("style_weight > 1").find("did you mean 'params.style_weight'"), std::string::npos);
  EXPECT_NE(Error("metrics.los < 1").find("did you mean 'metrics.loss'"), std::string::npos);
  EXPECT_NE(Error("atempts = 1").find("did you mean 'attempts'"), std::string::npos);
  EXPECT_EQ(Error("params.completely_different = 1").find("did you mean"), std::string::npos);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(Query, SortKeysAreCheckedAndMissingValuesSortLast) {
  auto compiled = Compile("", {"metrics.loss:desc", "id"}, Schema());
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->order_by, "(m0.value IS NULL), m0.value DESC, (r.id IS NULL), r.id ASC, r.id");
  EXPECT_FALSE(Compile("", {"metrics.loss:down"}, Schema()).ok());
  EXPECT_FALSE(Compile("", {"metrics.lost"}, Schema()).ok());
}

}  // namespace
}  // namespace stylesweep::query
