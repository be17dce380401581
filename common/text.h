// Small text helpers every part uses for messages and canonical output.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace stylesweep {

// A run of 1 to `max_digits` decimal digits (no sign, no spaces) as a
// number; -1 for anything else. max_digits <= 18.
inline long long ParseDigits(const std::string& text, int max_digits) {
  if (text.empty() || text.size() > static_cast<size_t>(max_digits)) return -1;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// `s` without leading and trailing blanks (spaces, tabs, CR, LF).
inline std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const size_t end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

// `text` with every occurrence of `from` (not empty) replaced by `to`, left
// to right; a replacement is not searched again.
inline std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Levenshtein distance: insertions, deletions and substitutions each cost 1.
inline size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate closest to `word` by EditDistance (the first on ties), or ""
// when there are no candidates. For "did you mean" messages.
inline std::string ClosestWord(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

// The shortest decimal text that parses back to exactly `value` ("0.001", "1e-05").
inline std::string FormatShortestDouble(double value) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

// Splits `text` at `separator`, trims spaces and tabs around each item and
// drops empty items: "relu1_1, relu2_1,," -> {"relu1_1", "relu2_1"}; "" -> {}.
// The one splitter for comma-separated flags, settings and params.
inline std::vector<std::string> SplitList(const std::string& text, char separator = ',') {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    const size_t first = text.find_first_not_of(" \t", start);
    if (first != std::string::npos && first < end) {
      const size_t last = text.find_last_not_of(" \t", end - 1);
      items.push_back(text.substr(first, last - first + 1));
    }
    start = end + 1;
  }
  return items;
}

// Joins `items` with `separator`; SplitList's inverse for items without
// separators or surrounding blanks.
inline std::string JoinStrings(const std::vector<std::string>& items, const std::string& separator = ",") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

// Rows of cells as lines of left-aligned columns two spaces apart, each line
// ending in "\n" and without trailing blanks; widths in bytes. Rows may be
// shorter than the first.
inline std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      out += row[c];
      if (c + 1 < row.size()) out += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace stylesweep
