// Each TEST runs in its own process under CTest (gtest_add_tests), so each
// starts with no stop requested.
#include "scheduler/stop_signal.h"

#include <gtest/gtest.h>

#include <csignal>

namespace stylesweep {
namespace {

TEST(StopSignal, Usr1StopsAsAPreemption) {
  InstallStopSignalHandlers();
  ASSERT_FALSE(StopRequested());
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  EXPECT_TRUE(StopRequested());
  EXPECT_TRUE(StopIsPreemption());
  EXPECT_EQ(StopSignalNumber(), SIGUSR1);
}

TEST(StopSignal, TermAfterUsr1StaysAPreemption) {
  InstallStopSignalHandlers();
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(StopIsPreemption());
  EXPECT_EQ(StopSignalNumber(), SIGUSR1);
}

TEST(StopSignal, TermIsAnInterruptionNotAPreemption) {
  InstallStopSignalHandlers();
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(StopRequested());
  EXPECT_FALSE(StopIsPreemption());
  EXPECT_EQ(StopSignalNumber(), SIGTERM);
}

}  // namespace
}  // namespace stylesweep
