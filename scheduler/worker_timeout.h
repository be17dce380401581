// The worker timeout's constants and its flag's parser: header-only and
// free of LibTorch and MPI, so the torch-free front (`stylesweep slurm`)
// checks --worker-timeout the same way the sweep does (worker_liveness.h).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

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

// Parses a --worker-timeout value: a number of seconds with a unit, "90s",
// "5m", "1h" (a bare number is seconds), at least kMinTimeoutHeartbeats x
// kHeartbeatIntervalSeconds. Errors name the value and the rule.
inline Result<double> ParseWorkerTimeout(const std::string& text) {
  const std::string rule = "--worker-timeout takes a duration such as 90s, 5m or 1h";
  if (text.empty()) return Status::InvalidArgument(rule + ", not an empty value");
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || errno != 0 || !std::isfinite(number)) {
    return Status::InvalidArgument(rule + ", not '" + text + "'");
  }
  const std::string unit(end);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  else return Status::InvalidArgument(rule + ": unknown unit '" + unit + "' in '" + text + "' (use s, m or h)");
  const double seconds = number * scale;
  const double minimum = kMinTimeoutHeartbeats * kHeartbeatIntervalSeconds;
  if (seconds < minimum) {
    char buffer[160];
    std::snprintf(buffer, sizeof(buffer),
                  "--worker-timeout %s is too short: at least %.0fs (%d heartbeat intervals of %.0fs)", text.c_str(),
                  minimum, kMinTimeoutHeartbeats, kHeartbeatIntervalSeconds);
    return Status::InvalidArgument(buffer);
  }
  return seconds;
}

}  // namespace stylesweep
