// Sweep progress for people watching: on a terminal one live line redrawn in
// place; otherwise (a log file, a batch system) a plain line every interval.
//
//   [sweep] 12/40 done, 1 failed | w1: tubingen_starry 8s, w2: idle | 3.2 jobs/min, 9m left
//
// Threading: the coordinator's thread only.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

namespace stylesweep {

struct ProgressState {
  int done = 0;                      // finished + failed for good in this sweep
  int total = 0;                     // jobs this sweep runs
  int failed = 0;                    // failed for good
  std::vector<std::string> workers;  // per worker: "job-name 8s" or "idle"
};

class ProgressReporter {
 public:
  // `out` may be null (no output). `live`: redraw one line with '\r'.
  ProgressReporter(std::ostream* out, bool live, double interval_seconds);

  // Prints when due: live mode at most every 0.5 s, plain mode every interval.
  void Update(const ProgressState& state);
  // Prints a message on its own line (a job failed...), keeping the live line intact.
  void Message(const std::string& text);
  // Prints the final state and ends the live line.
  void Finish(const ProgressState& state);

  // The line for `state` after `elapsed_seconds` (public for tests).
  static std::string FormatLine(const ProgressState& state, double elapsed_seconds);

 private:
  void Print(const ProgressState& state);

  std::ostream* out_;
  bool live_;
  double interval_seconds_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  bool printed_ = false;
  std::size_t last_width_ = 0;
};

}  // namespace stylesweep
