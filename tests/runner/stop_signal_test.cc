// The stop flag is per process. Under CTest each TEST runs in its own
// process (gtest_add_tests); run directly, the binary runs them all in one,
// so each test clears the flag first and the verdicts are the same.
#include "scheduler/stop_signal.h"

#include <gtest/gtest.h>

#include <csignal>

namespace stylesweep {
namespace {

class StopSignal : public ::testing::Test {
 protected:
  void SetUp() override {
    InstallStopSignalHandlers();
    ClearStopRequest();
  }
};

TEST_F(StopSignal, Usr1StopsAsAPreemption) {
  ASSERT_FALSE(StopRequested());
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  EXPECT_TRUE(StopRequested());
  EXPECT_TRUE(StopIsPreemption());
  EXPECT_EQ(StopSignalNumber(), SIGUSR1);
}

TEST_F(StopSignal, TermAfterUsr1StaysAPreemption) {
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(StopIsPreemption());
  EXPECT_EQ(StopSignalNumber(), SIGUSR1);
}

TEST_F(StopSignal, TermIsAnInterruptionNotAPreemption) {
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(StopRequested());
  EXPECT_FALSE(StopIsPreemption());
  EXPECT_EQ(StopSignalNumber(), SIGTERM);
}

TEST_F(StopSignal, ClearingForgetsTheEarlierStop) {
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  ClearStopRequest();
  EXPECT_FALSE(StopRequested());
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(StopSignalNumber(), SIGTERM);
}

}  // namespace
}  // namespace stylesweep
