#include "runner/sweep_share.h"

#include <cctype>
#include <utility>

namespace stylesweep {

namespace {

constexpr int kMaxShares = 100000;

// Parses a non-negative decimal of at most 6 digits; -1 otherwise.
int ParseCount(const std::string& text) {
  if (text.empty() || text.size() > 6) return -1;
  int value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

Result<SweepShare> ParseSweepShare(const std::string& text) {
  const std::size_t slash = text.find('/');
  const auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("--share '" + text + "': " + why +
                                   "; give I/N with 0 <= I < N, e.g. --share 0/4 for the first of four shares");
  };
  if (slash == std::string::npos) return invalid("no '/'");
  SweepShare share;
  share.index = ParseCount(text.substr(0, slash));
  share.count = ParseCount(text.substr(slash + 1));
  if (share.index < 0 || share.count < 0) return invalid("I and N must be whole numbers");
  if (share.count < 1 || share.count > kMaxShares) {
    return invalid("N must be between 1 and " + std::to_string(kMaxShares));
  }
  if (share.index >= share.count) return invalid("I must be smaller than N (shares count from 0)");
  return share;
}

bool InShare(std::size_t position, const SweepShare& share) {
  return position % static_cast<std::size_t>(share.count) == static_cast<std::size_t>(share.index);
}

std::vector<JobSpec> KeepShare(std::vector<JobSpec> jobs, const SweepShare& share) {
  std::vector<JobSpec> kept;
  kept.reserve(jobs.size() / static_cast<std::size_t>(share.count) + 1);
  for (std::size_t position = 0; position < jobs.size(); ++position) {
    if (InShare(position, share)) kept.push_back(std::move(jobs[position]));
  }
  return kept;
}

}  // namespace stylesweep
