#include "scheduler/worker_liveness.h"

#include <gtest/gtest.h>

namespace stylesweep {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  double now = 100.0;
  WorkerLiveness::NowFn fn() {
    return [this] { return now; };
  }
};

TEST(WorkerLiveness, BusyWorkerSilentPastTheTimeoutIsLostOnce) {
  FakeClock clock;
  WorkerLiveness liveness(2, 10.0, clock.fn());
  liveness.SetBusy(0, true);
  liveness.SetBusy(1, true);
  clock.now += 9.0;
  liveness.Heard(1);
  EXPECT_TRUE(liveness.NewlyLost().empty());
  clock.now += 1.5;  // worker 0: 10.5 s of silence; worker 1: 1.5 s
  EXPECT_EQ(liveness.NewlyLost(), std::vector<int>{0});
  EXPECT_TRUE(liveness.lost(0));
  EXPECT_FALSE(liveness.lost(1));
  EXPECT_DOUBLE_EQ(liveness.silence(0), 10.5);
  EXPECT_TRUE(liveness.NewlyLost().empty()) << "a lost worker is reported once";
  EXPECT_EQ(liveness.num_lost(), 1);
}

TEST(WorkerLiveness, IdleWorkerIsNeverLost) {
  FakeClock clock;
  WorkerLiveness liveness(1, 10.0, clock.fn());
  clock.now += 1000;
  EXPECT_TRUE(liveness.NewlyLost().empty());
}

TEST(WorkerLiveness, SilenceCountsFromTheAssignment) {
  FakeClock clock;
  WorkerLiveness liveness(1, 10.0, clock.fn());
  clock.now += 50;  // idle for a long time, then given a job
  liveness.SetBusy(0, true);
  clock.now += 9;
  EXPECT_TRUE(liveness.NewlyLost().empty());
  clock.now += 2;
  EXPECT_EQ(liveness.NewlyLost(), std::vector<int>{0});
}

TEST(WorkerLiveness, HeartbeatsKeepABusyWorkerAlive) {
  FakeClock clock;
  WorkerLiveness liveness(1, 5.0, clock.fn());
  liveness.SetBusy(0, true);
  for (int i = 0; i < 100; ++i) {
    clock.now += 1.0;
    liveness.Heard(0);
    ASSERT_TRUE(liveness.NewlyLost().empty()) << "at heartbeat " << i;
  }
}

TEST(WorkerLiveness, ZeroTimeoutNeverDeclaresLoss) {
  FakeClock clock;
  WorkerLiveness liveness(1, 0.0, clock.fn());
  liveness.SetBusy(0, true);
  clock.now += 1e6;
  EXPECT_TRUE(liveness.NewlyLost().empty());
}

TEST(ParseWorkerTimeout, AcceptsSecondsMinutesAndHours) {
  EXPECT_DOUBLE_EQ(*ParseWorkerTimeout("90s"), 90.0);
  EXPECT_DOUBLE_EQ(*ParseWorkerTimeout("5m"), 300.0);
  EXPECT_DOUBLE_EQ(*ParseWorkerTimeout("1h"), 3600.0);
  EXPECT_DOUBLE_EQ(*ParseWorkerTimeout("2.5m"), 150.0);
}

TEST(ParseWorkerTimeout, RejectsBadValuesNamingTheProblem) {
  Result<double> unit = ParseWorkerTimeout("5x");
  ASSERT_FALSE(unit.ok());
  EXPECT_NE(unit.status().message().find("unknown unit 'x'"), std::string::npos) << unit.status().message();
  Result<double> words = ParseWorkerTimeout("soon");
  ASSERT_FALSE(words.ok());
  EXPECT_NE(words.status().message().find("'soon'"), std::string::npos);
  Result<double> short_one = ParseWorkerTimeout("2s");
  ASSERT_FALSE(short_one.ok());
  EXPECT_NE(short_one.status().message().find("at least 5s"), std::string::npos) << short_one.status().message();
  EXPECT_FALSE(ParseWorkerTimeout("").ok());
  EXPECT_FALSE(ParseWorkerTimeout("-5m").ok());
  EXPECT_FALSE(ParseWorkerTimeout("45").ok());  // a unit is required, as for every duration
}

}  // namespace
}  // namespace stylesweep
