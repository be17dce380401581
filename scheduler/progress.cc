#include "scheduler/progress.h"

#include <cstdio>

namespace stylesweep {

namespace {

std::string Duration(double seconds) {
  char buffer[32];
  if (seconds < 60) std::snprintf(buffer, sizeof(buffer), "%.0fs", seconds);
  else if (seconds < 3600) std::snprintf(buffer, sizeof(buffer), "%.0fm", seconds / 60);
  else std::snprintf(buffer, sizeof(buffer), "%.1fh", seconds / 3600);
  return buffer;
}

}  // namespace

ProgressReporter::ProgressReporter(std::ostream* out, bool live, double interval_seconds)
    : out_(out),
      live_(live),
      interval_seconds_(live ? 0.5 : interval_seconds),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

std::string ProgressReporter::FormatLine(const ProgressState& state, double elapsed_seconds) {
  std::string line = "[sweep] " + std::to_string(state.done) + "/" + std::to_string(state.total) + " done";
  if (state.failed > 0) line += ", " + std::to_string(state.failed) + " failed";
  if (!state.workers.empty()) {
    line += " |";
    for (std::size_t w = 0; w < state.workers.size(); ++w) {
      line += (w == 0 ? " w" : ", w") + std::to_string(w + 1) + ": " + state.workers[w];
    }
  }
  char buffer[64];
  if (state.done > 0 && elapsed_seconds > 0) {
    const double per_minute = state.done / elapsed_seconds * 60.0;
    const double left = (state.total - state.done) / per_minute * 60.0;
    std::snprintf(buffer, sizeof(buffer), " | %.1f jobs/min, %s left", per_minute, Duration(left).c_str());
    line += buffer;
  }
  return line;
}

void ProgressReporter::Print(const ProgressState& state) {
  const auto now = std::chrono::steady_clock::now();
  std::string line = FormatLine(state, std::chrono::duration<double>(now - start_).count());
  if (live_) {
    const std::size_t width = line.size();
    if (width < last_width_) line += std::string(last_width_ - width, ' ');
    last_width_ = width;
    *out_ << '\r' << line << std::flush;
  } else {
    *out_ << line << '\n' << std::flush;
  }
  last_print_ = now;
  printed_ = true;
}

void ProgressReporter::Update(const ProgressState& state) {
  if (out_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (printed_ && std::chrono::duration<double>(now - last_print_).count() < interval_seconds_) return;
  if (!printed_ && !live_ && std::chrono::duration<double>(now - start_).count() < interval_seconds_) return;
  Print(state);
}

void ProgressReporter::Message(const std::string& text) {
  if (out_ == nullptr) return;
  if (live_ && last_width_ > 0) {
    *out_ << '\r' << std::string(last_width_, ' ') << '\r';
    last_width_ = 0;
    printed_ = false;
  }
  *out_ << text << '\n' << std::flush;
}

void ProgressReporter::Finish(const ProgressState& state) {
  if (out_ == nullptr) return;
  Print(state);
  if (live_) *out_ << '\n' << std::flush;
}

}  // namespace stylesweep
