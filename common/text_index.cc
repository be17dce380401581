#include "common/text_index.h"

namespace stylesweep {

void TextIndex::Reserve(std::size_t positions) {
  if (2 * positions > slots_.size()) Grow(2 * positions);
}

void TextIndex::Grow(std::size_t at_least) {
  std::size_t size = slots_.empty() ? 16 : slots_.size();
  while (size < at_least) size *= 2;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(size, Slot{});
  const std::size_t mask = size - 1;
  for (const Slot& entry : old) {
    if (entry.position == 0) continue;
    std::size_t slot = entry.hash & mask;
    while (slots_[slot].position != 0) slot = (slot + 1) & mask;
    slots_[slot] = entry;
  }
}

}  // namespace stylesweep
