#include "common/text_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stylesweep {
namespace {

TEST(TextIndex, FindsEachPositionByItsTextAsItGrows) {
  std::vector<std::string> texts;
  for (int i = 0; i < 300; ++i) texts.push_back("name/" + std::to_string(i));
  auto text_of = [&](std::uint32_t p) { return std::string_view(texts[p]); };
  TextIndex index;  // no Reserve: it grows several times
  for (std::uint32_t p = 0; p < texts.size(); ++p) EXPECT_EQ(index.Insert(p, text_of), p);
  EXPECT_EQ(index.size(), 300u);
  for (std::uint32_t p = 0; p < texts.size(); ++p) EXPECT_EQ(index.Find(texts[p], text_of), p);
  EXPECT_EQ(index.Find("name/300", text_of), std::nullopt);
  EXPECT_EQ(index.Find("name/", text_of), std::nullopt);  // a prefix of every text
}

TEST(TextIndex, ASecondPositionWithTheSameTextGivesTheFirst) {
  const std::vector<std::string> texts = {"a", "b", "a", "", ""};
  auto text_of = [&](std::uint32_t p) { return std::string_view(texts[p]); };
  TextIndex index;
  index.Reserve(texts.size());
  EXPECT_EQ(index.Insert(0, text_of), 0u);
  EXPECT_EQ(index.Insert(1, text_of), 1u);
  EXPECT_EQ(index.Insert(2, text_of), 0u);
  EXPECT_EQ(index.Insert(3, text_of), 3u);
  EXPECT_EQ(index.Insert(4, text_of), 3u);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Find("a", text_of), 0u);
  EXPECT_EQ(index.Find("", text_of), 3u);
}

TEST(TextIndex, AnEmptyIndexFindsNothing) {
  TextIndex index;
  EXPECT_EQ(index.Find("x", [](std::uint32_t) { return std::string_view("x"); }), std::nullopt);
}

}  // namespace
}  // namespace stylesweep
