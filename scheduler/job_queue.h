// JobQueue: the coordinator's pending jobs, handed out longest first by
// estimated cost (pixels x iterations). Among the jobs of the longest
// remaining cost, a worker gets one with the style it ran last when there is
// one: same order, but its style-target cache hits. Equal jobs leave in the
// order they were pushed.
//
// Threading: not thread-safe; the coordinator's thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace stylesweep {

class JobQueue {
 public:
  // Adds job `slot` (the caller's index) with its cost and style key. A slot
  // may be pushed again after it was popped (a retry).
  void Push(int slot, double cost, const std::string& style_key);

  // The next job for a worker whose last job had style `last_style` (empty:
  // none), or nullopt when the queue is empty.
  std::optional<int> Pop(const std::string& last_style);

  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

 private:
  struct Entry {
    int slot;
    bool taken;
  };
  // Jobs of one cost, in push order, and the same indexed by style.
  struct Tier {
    std::deque<std::size_t> order;
    std::unordered_map<std::string, std::deque<std::size_t>> by_style;
    std::size_t live = 0;
  };
  // Pops the first entry of `ids` not yet taken; nullopt when none is left.
  std::optional<std::size_t> PopLive(std::deque<std::size_t>& ids);

  std::vector<Entry> entries_;
  std::map<double, Tier, std::greater<double>> tiers_;
  std::size_t live_ = 0;
};

}  // namespace stylesweep
