// JobQueue: the coordinator's pending jobs, handed out longest first by
// estimated cost (pixels x iterations). Among the jobs of the longest
// remaining cost, a worker gets one with the style it ran last when there is
// one: same order, but its style-target cache hits. Equal jobs leave in the
// order they were pushed. PopCompatible fills a batch: the longest remaining
// job with a given batch key (jobs a worker may run together, see
// BatchCompatibilityKey in engine/batch_compatibility.h).
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
  // Adds job `slot` (the caller's index) with its cost, style key and batch
  // key (empty: never batched). A slot may be pushed again after it was
  // popped (a retry).
  void Push(int slot, double cost, const std::string& style_key, const std::string& batch_key = "");

  // The next job for a worker whose last job had style `last_style` (empty:
  // none), or nullopt when the queue is empty.
  std::optional<int> Pop(const std::string& last_style);

  // The next job (longest first, then push order) whose batch key is
  // `batch_key`, or nullopt when none is left. An empty key matches nothing.
  std::optional<int> PopCompatible(const std::string& batch_key);

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
    std::unordered_map<std::string, std::deque<std::size_t>> by_batch;
    std::size_t live = 0;
  };
  // Pops the first entry of `ids` not yet taken; nullopt when none is left.
  std::optional<std::size_t> PopLive(std::deque<std::size_t>& ids);
  // Marks entry `id` (live, in tier `tier_it`) taken and returns its slot.
  int Take(std::size_t id, std::map<double, Tier, std::greater<double>>::iterator tier_it);

  std::vector<Entry> entries_;
  std::map<double, Tier, std::greater<double>> tiers_;
  std::size_t live_ = 0;
};

}  // namespace stylesweep
