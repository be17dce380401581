#include "common/text.h"

#include <gtest/gtest.h>

namespace stylesweep {
namespace {

using Items = std::vector<std::string>;

TEST(SplitList, TrimsBlanksAndDropsEmptyItems) {
  EXPECT_EQ(SplitList("relu1_1, relu2_1 ,\trelu3_1"), (Items{"relu1_1", "relu2_1", "relu3_1"}));
  EXPECT_EQ(SplitList("a,,b,"), (Items{"a", "b"}));
  EXPECT_EQ(SplitList(" , "), Items{});
  EXPECT_EQ(SplitList(""), Items{});
  EXPECT_EQ(SplitList("one"), Items{"one"});
}

TEST(SplitList, SplitsAtTheGivenSeparatorOnly) {
  EXPECT_EQ(SplitList("128:200,256:100", ':'), (Items{"128", "200,256", "100"}));
  EXPECT_EQ(SplitList("cuda:0,cuda:1"), (Items{"cuda:0", "cuda:1"}));
}

TEST(SplitList, JoinStringsIsItsInverse) {
  const Items items = {"relu1_1", "relu2_1", "0.5"};
  EXPECT_EQ(SplitList(JoinStrings(items)), items);
}

TEST(AlignColumns, PadsEachColumnToItsWidestCellWithoutTrailingBlanks) {
  EXPECT_EQ(AlignColumns({{"run", "loss"}, {"12", "0.5"}, {"7", "123.25"}}),
            "run  loss\n"
            "12   0.5\n"
            "7    123.25\n");
  EXPECT_EQ(AlignColumns({}), "");
}

TEST(Trim, DropsBlanksAtBothEndsOnly) {
  EXPECT_EQ(Trim("  relu1_1 \t\r\n"), "relu1_1");
  EXPECT_EQ(Trim("a b"), "a b");
  EXPECT_EQ(Trim(" \t\n"), "");
  EXPECT_EQ(Trim(""), "");
}

TEST(ReplaceAll, ReplacesEveryOccurrenceAndNeverItsOwnOutput) {
  EXPECT_EQ(ReplaceAll("{content}_{style}_{content}", "{content}", "tubingen"), "tubingen_{style}_tubingen");
  EXPECT_EQ(ReplaceAll("aaa", "a", "aa"), "aaaaaa");
  EXPECT_EQ(ReplaceAll("${shared}/images", "${shared}", ""), "/images");
  EXPECT_EQ(ReplaceAll("no variables", "{key}", "x"), "no variables");
}

}  // namespace
}  // namespace stylesweep
