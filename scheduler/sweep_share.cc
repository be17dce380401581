#include "scheduler/sweep_share.h"

#include <utility>

#include "common/text.h"

namespace stylesweep {

namespace {

constexpr int kMaxShares = 100000;

}  // namespace

Result<SweepShare> ParseSweepShare(const std::string& text) {
  const std::size_t slash = text.find('/');
  const auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("--share '" + text + "': " + why +
                                   "; give I/N with 0 <= I < N, e.g. --share 0/4 for the first of four shares");
  };
  if (slash == std::string::npos) return invalid("no '/'");
  SweepShare share;
  share.index = static_cast<int>(ParseDigits(text.substr(0, slash), 6));
  share.count = static_cast<int>(ParseDigits(text.substr(slash + 1), 6));
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
