// The worker timeout's constants and its flag's parser: header-only and
// free of LibTorch and MPI, so the torch-free front (`stylesweep slurm`)
// checks --worker-timeout the same way the sweep does (worker_liveness.h).
#pragma once

#include <cstdio>
#include <string>

#include "common/duration.h"
#include "common/status.h"

namespace stylesweep {

// Seconds between a busy worker's heartbeats, at most (one per optimiser
// iteration when iterations are slower).
inline constexpr double kHeartbeatIntervalSeconds = 1.0;
// --worker-timeout may not be shorter than this many heartbeat intervals.
inline constexpr int kMinTimeoutHeartbeats = 5;
// --worker-timeout's default: 5 minutes, longer than a model load or a slow
// iteration of a large job on a CPU.
inline constexpr double kDefaultWorkerTimeoutSeconds = 300.0;

// Parses a --worker-timeout value with ParseDuration ("90s", "5m", "1h"),
// at least kMinTimeoutHeartbeats x kHeartbeatIntervalSeconds. Errors name the
// value and the rule.
inline Result<double> ParseWorkerTimeout(const std::string& text) {
  Result<double> seconds = ParseDuration(text, "--worker-timeout");
  if (!seconds.ok()) return seconds.status();
  const double minimum = kMinTimeoutHeartbeats * kHeartbeatIntervalSeconds;
  if (*seconds < minimum) {
    char buffer[160];
    std::snprintf(buffer, sizeof(buffer),
                  "--worker-timeout %s is too short: at least %.0fs (%d heartbeat intervals of %.0fs)", text.c_str(),
                  minimum, kMinTimeoutHeartbeats, kHeartbeatIntervalSeconds);
    return Status::InvalidArgument(buffer);
  }
  return *seconds;
}

}  // namespace stylesweep
