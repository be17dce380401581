#include "store/run_state_index.h"

namespace stylesweep {

void RunStateIndex::Reserve(std::size_t runs) {
  entries_.reserve(runs);
  hashes_.reserve(runs * 64);  // sha256 digests in hex
  by_hash_.Reserve(runs);
}

void RunStateIndex::Add(std::string_view config_hash, std::int64_t id, RunStatus status) {
  Entry entry;
  entry.state.id = id;
  entry.state.status = status;
  entry.hash_offset = hashes_.size();
  entry.hash_length = static_cast<std::uint32_t>(config_hash.size());
  hashes_.append(config_hash);
  entries_.push_back(entry);
  const auto added = static_cast<std::uint32_t>(entries_.size() - 1);
  if (by_hash_.Insert(added, [this](std::uint32_t e) { return HashOf(e); }) != added) {
    entries_.pop_back();  // a hash seen before: its first run stays
    hashes_.resize(entry.hash_offset);
  }
}

const RunState* RunStateIndex::Find(std::string_view config_hash) const {
  std::optional<std::uint32_t> found = by_hash_.Find(config_hash, [this](std::uint32_t e) { return HashOf(e); });
  return found ? &entries_[*found].state : nullptr;
}

}  // namespace stylesweep
