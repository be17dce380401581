// The two clocks every part reads: wall time since the Unix epoch (recorded
// run and experiment times) and a steady clock for durations (phase timings,
// progress, timeouts).
#pragma once

#include <chrono>

namespace stylesweep {

using Clock = std::chrono::steady_clock;

// Seconds since the Unix epoch, from the system clock; for times that are
// stored or compared across processes.
inline double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Seconds of the steady clock since `start`; for durations.
inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace stylesweep
