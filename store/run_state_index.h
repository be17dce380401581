// RunStateIndex: an experiment's runs by config hash (RunStore::ListRunStates),
// what a sweep's start needs to match up to a million jobs to their runs.
// Each run's id and status is found by its exact hash in constant time (a
// TextIndex over the hashes); the hashes are kept in one buffer, not as a
// heap string per run, so a million runs take about 110 MB.
//
// Threading: Find, size and empty may be called from several threads; Add
// and Reserve are not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/text_index.h"
#include "store/run_types.h"

namespace stylesweep {

class RunStateIndex {
 public:
  // Makes room for `runs` runs without growing (optional).
  void Reserve(std::size_t runs);

  // Adds the run with `config_hash`; a hash already present keeps its first run.
  void Add(std::string_view config_hash, std::int64_t id, RunStatus status);

  // The run whose config hash is exactly `config_hash` (not a prefix), or
  // null. The pointer stays valid until the next Add.
  const RunState* Find(std::string_view config_hash) const;

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    RunState state;
    std::uint64_t hash_offset = 0;  // into hashes_
    std::uint32_t hash_length = 0;
  };
  // The config hash of entry `e`.
  std::string_view HashOf(std::uint32_t e) const {
    return {hashes_.data() + entries_[e].hash_offset, entries_[e].hash_length};
  }

  std::vector<Entry> entries_;
  std::string hashes_;  // every run's config hash, back to back
  TextIndex by_hash_;   // positions in entries_
};

}  // namespace stylesweep
