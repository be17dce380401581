#include "scheduler/job_queue.h"

namespace stylesweep {

void JobQueue::Push(int slot, double cost, const std::string& style_key, const std::string& batch_key) {
  const std::size_t id = entries_.size();
  entries_.push_back(Entry{slot, false});
  Tier& tier = tiers_[cost];
  tier.order.push_back(id);
  tier.by_style[style_key].push_back(id);
  if (!batch_key.empty()) tier.by_batch[batch_key].push_back(id);
  ++tier.live;
  ++live_;
}

std::optional<std::size_t> JobQueue::PopLive(std::deque<std::size_t>& ids) {
  while (!ids.empty()) {
    const std::size_t id = ids.front();
    ids.pop_front();
    if (!entries_[id].taken) return id;
  }
  return std::nullopt;
}

int JobQueue::Take(std::size_t id, std::map<double, Tier, std::greater<double>>::iterator tier_it) {
  Entry& entry = entries_[id];
  entry.taken = true;
  --live_;
  if (--tier_it->second.live == 0) tiers_.erase(tier_it);
  return entry.slot;
}

std::optional<int> JobQueue::Pop(const std::string& last_style) {
  if (tiers_.empty()) return std::nullopt;
  auto tier_it = tiers_.begin();
  Tier& tier = tier_it->second;
  std::optional<std::size_t> id;
  if (!last_style.empty()) {
    auto style_it = tier.by_style.find(last_style);
    if (style_it != tier.by_style.end()) {
      id = PopLive(style_it->second);
      if (style_it->second.empty()) tier.by_style.erase(style_it);
    }
  }
  if (!id) id = PopLive(tier.order);
  // A live tier always has a live entry in `order`.
  return Take(*id, tier_it);
}

std::optional<int> JobQueue::PopCompatible(const std::string& batch_key) {
  if (batch_key.empty()) return std::nullopt;
  for (auto tier_it = tiers_.begin(); tier_it != tiers_.end(); ++tier_it) {
    auto batch_it = tier_it->second.by_batch.find(batch_key);
    if (batch_it == tier_it->second.by_batch.end()) continue;
    std::optional<std::size_t> id = PopLive(batch_it->second);
    if (batch_it->second.empty()) tier_it->second.by_batch.erase(batch_it);
    if (id) return Take(*id, tier_it);
  }
  return std::nullopt;
}

}  // namespace stylesweep
