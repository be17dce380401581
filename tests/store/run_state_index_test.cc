#include "store/run_state_index.h"

#include <gtest/gtest.h>

#include <string>

#include "common/sha256.h"

namespace stylesweep {
namespace {

RunStatus StatusOf(int i) { return i % 3 == 0 ? RunStatus::kFinished : i % 3 == 1 ? RunStatus::kQueued : RunStatus::kFailed; }

TEST(RunStateIndex, FindsEveryRunByItsHashAsItGrows) {
  RunStateIndex index;  // no Reserve: the slots grow many times
  for (int i = 0; i < 500; ++i) index.Add(Sha256Hex("job " + std::to_string(i)), 1000 + i, StatusOf(i));
  ASSERT_EQ(index.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    const RunState* state = index.Find(Sha256Hex("job " + std::to_string(i)));
    ASSERT_NE(state, nullptr) << i;
    EXPECT_EQ(state->id, 1000 + i);
    EXPECT_EQ(state->status, StatusOf(i));
  }
  EXPECT_EQ(index.Find(Sha256Hex("job 500")), nullptr);
}

TEST(RunStateIndex, MatchesWholeHashesOnly) {
  RunStateIndex index;
  index.Reserve(4);
  index.Add("abcd", 1, RunStatus::kQueued);
  index.Add("abcdef", 2, RunStatus::kFinished);
  index.Add("", 3, RunStatus::kKilled);
  EXPECT_EQ(index.Find("abcd")->id, 1);
  EXPECT_EQ(index.Find("abcdef")->id, 2);
  EXPECT_EQ(index.Find("")->id, 3);
  EXPECT_EQ(index.Find("abc"), nullptr);
  EXPECT_EQ(index.Find("abcde"), nullptr);
  EXPECT_EQ(index.Find("abcd "), nullptr);
}

TEST(RunStateIndex, AHashAddedTwiceKeepsItsFirstRun) {
  RunStateIndex index;
  index.Add("same", 7, RunStatus::kFinished);
  index.Add("same", 8, RunStatus::kQueued);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.Find("same")->id, 7);
  EXPECT_EQ(index.Find("same")->status, RunStatus::kFinished);
}

TEST(RunStateIndex, AnEmptyIndexFindsNothing) {
  RunStateIndex index;
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.Find("anything"), nullptr);
}

}  // namespace
}  // namespace stylesweep
