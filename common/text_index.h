// TextIndex: a hash set of positions (0, 1, 2, ...) in a list of texts that
// the caller keeps, looked up by text. It copies no text and allocates
// nothing per entry (8 bytes a slot, at most half the slots full), so a
// million names or keys cost about 16 MB and no million small allocations
// to make and free. Each slot keeps 32 bits of its text's hash, so most
// probes that miss never touch the caller's texts.
//
// Threading: Find may be called from several threads; Insert and Reserve
// are not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace stylesweep {

class TextIndex {
 public:
  // Makes room for `positions` positions without growing.
  void Reserve(std::size_t positions);

  // Adds `position`, whose text is text_of(position), unless a position with
  // the same text is there; returns the position that has the text (so
  // `position` when it was added). text_of: std::string_view(std::uint32_t),
  // the same list in every call.
  template <typename TextOf>
  std::uint32_t Insert(std::uint32_t position, const TextOf& text_of) {
    if (2 * (size_ + 1) > slots_.size()) Grow(2 * (size_ + 1));
    const std::string_view text = text_of(position);
    const std::uint64_t hash = HashOf(text);
    const std::size_t slot = SlotFor(text, hash, text_of);
    if (slots_[slot].position != 0) return slots_[slot].position - 1;
    slots_[slot] = Slot{position + 1, static_cast<std::uint32_t>(hash)};
    ++size_;
    return position;
  }

  // The position whose text is exactly `text`, or nullopt.
  template <typename TextOf>
  std::optional<std::uint32_t> Find(std::string_view text, const TextOf& text_of) const {
    if (slots_.empty()) return std::nullopt;
    const Slot& slot = slots_[SlotFor(text, HashOf(text), text_of)];
    if (slot.position == 0) return std::nullopt;
    return slot.position - 1;
  }

  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint32_t position = 0;  // position + 1; 0: empty
    std::uint32_t hash = 0;      // the low 32 bits of its text's hash
  };
  static std::uint64_t HashOf(std::string_view text) { return std::hash<std::string_view>()(text); }

  // The slot holding `text` or the empty slot where it would go.
  template <typename TextOf>
  std::size_t SlotFor(std::string_view text, std::uint64_t hash, const TextOf& text_of) const {
    const std::size_t mask = slots_.size() - 1;
    const auto tag = static_cast<std::uint32_t>(hash);
    std::size_t slot = tag & mask;
    while (slots_[slot].position != 0 &&
           (slots_[slot].hash != tag || text_of(slots_[slot].position - 1) != text)) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  // Makes the slots a power of two of at least `at_least` (and 16) and
  // places every entry again (by its kept hash: no text is read).
  void Grow(std::size_t at_least);

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace stylesweep
