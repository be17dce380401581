#include "experiments/file_hash.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

// "png:640x480": an image header in the cache file.
std::string ProbeText(const ImageProbe& probe) {
  return probe.format + ":" + std::to_string(probe.width) + "x" + std::to_string(probe.height);
}

// A decimal number that fills `text`, or nullopt.
std::optional<long long> WholeNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  const long long value = std::strtoll(copy.c_str(), &end, 10);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return value;
}

// ProbeText's inverse; nullopt for anything else.
std::optional<ImageProbe> ParseProbeText(std::string_view text) {
  const std::size_t colon = text.find(':');
  const std::size_t times = text.find('x', colon == std::string_view::npos ? 0 : colon);
  if (colon == std::string_view::npos || times == std::string_view::npos) return std::nullopt;
  ImageProbe probe;
  probe.format = std::string(text.substr(0, colon));
  const std::optional<long long> width = WholeNumber(text.substr(colon + 1, times - colon - 1));
  const std::optional<long long> height = WholeNumber(text.substr(times + 1));
  if ((probe.format != "png" && probe.format != "jpeg") || !width || !height || *width <= 0 || *height <= 0 ||
      *width > std::numeric_limits<int>::max() || *height > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  probe.width = static_cast<int>(*width);
  probe.height = static_cast<int>(*height);
  return probe;
}

// The text up to the next tab of `line` from `position` (which moves past
// the tab), or nullopt when there is no tab.
std::optional<std::string_view> NextField(std::string_view line, std::size_t& position) {
  const std::size_t tab = line.find('\t', position);
  if (tab == std::string_view::npos) return std::nullopt;
  const std::string_view field = line.substr(position, tab - position);
  position = tab + 1;
  return field;
}

}  // namespace

Result<FileHasher::Key> FileHasher::KeyOf(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error);
  if (error) return Status::IoError(path + ": " + error.message());
  std::uintmax_t size = fs::file_size(absolute, error);
  if (error) {
    return fs::exists(absolute) ? Status::IoError(path + ": " + error.message())
                                : Status::NotFound(path + ": no such file");
  }
  auto mtime = fs::last_write_time(absolute, error);
  if (error) return Status::IoError(path + ": " + error.message());
  return Key{absolute.lexically_normal().string(), size,
             std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count()};
}

std::optional<FileHasher::Entry> FileHasher::Cached(const Key& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end()) return std::nullopt;
  return found->second;
}

void FileHasher::Store(const Key& key, Entry entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  changed_ = true;
  // One entry per path: an older size or time of this file is stale.
  const std::string& file = std::get<0>(key);
  entries_.erase(entries_.lower_bound(Key{file, 0, std::numeric_limits<std::int64_t>::min()}),
                 entries_.upper_bound(Key{file, std::numeric_limits<std::uintmax_t>::max(),
                                          std::numeric_limits<std::int64_t>::max()}));
  entries_[key] = std::move(entry);
}

Result<std::string> FileHasher::ReadDigest(const Key& key) {
  SS_ASSIGN_OR_RETURN(std::string digest, Sha256File(std::get<0>(key)));
  std::lock_guard<std::mutex> lock(mutex_);
  ++files_hashed_;
  return digest;
}

Result<std::string> FileHasher::Hash(const std::string& path) {
  SS_ASSIGN_OR_RETURN(Key key, KeyOf(path));
  std::optional<Entry> cached = Cached(key);
  if (cached) return cached->sha256;
  SS_ASSIGN_OR_RETURN(std::string digest, ReadDigest(key));
  Store(key, Entry{digest, std::nullopt});
  return digest;
}

Result<HashedImage> FileHasher::HashImage(const std::string& path) {
  Result<Key> key = KeyOf(path);
  std::optional<Entry> cached = key.ok() ? Cached(*key) : std::nullopt;
  if (cached && cached->probe) return HashedImage{cached->sha256, *cached->probe};
  // ProbeImage first: its errors say what is wrong with an image.
  SS_ASSIGN_OR_RETURN(ImageProbe probe, ProbeImage(path));
  if (!key.ok()) return key.status();
  Entry entry{cached ? cached->sha256 : std::string(), probe};
  if (!cached) {
    SS_ASSIGN_OR_RETURN(entry.sha256, ReadDigest(*key));
  }
  Store(*key, entry);
  return HashedImage{entry.sha256, probe};
}

std::int64_t FileHasher::files_hashed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return files_hashed_;
}

void FileHasher::set_rehash(bool rehash) {
  std::lock_guard<std::mutex> lock(mutex_);
  rehash_ = rehash;
  if (rehash_) entries_.clear();
}

Status FileHasher::LoadCache(const std::string& path) {
  std::error_code error;
  if (!fs::exists(path, error)) return Status::Ok();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": the file-hash cache cannot be opened for reading");
  std::map<Key, Entry> loaded;
  std::string text;
  while (std::getline(in, text)) {
    const std::string_view line(text);
    std::size_t position = 0;
    const std::optional<std::string_view> digest = NextField(line, position);
    const std::optional<std::string_view> size_text = NextField(line, position);
    const std::optional<std::string_view> mtime_text = NextField(line, position);
    if (!digest || !size_text || !mtime_text || digest->size() != 64) continue;
    const std::optional<long long> size = WholeNumber(*size_text);
    const std::optional<long long> mtime = WholeNumber(*mtime_text);
    if (!size || *size < 0 || !mtime) continue;
    Entry entry{std::string(*digest), std::nullopt};
    // Paths are absolute: a field before the path does not start with '/'.
    if (position < line.size() && line[position] != '/') {
      const std::optional<std::string_view> image = NextField(line, position);
      if (!image) continue;
      entry.probe = ParseProbeText(*image);
      if (!entry.probe) continue;
    }
    const std::string_view file = line.substr(position);
    if (file.empty()) continue;
    loaded[Key{std::string(file), static_cast<std::uintmax_t>(*size), static_cast<std::int64_t>(*mtime)}] =
        std::move(entry);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (rehash_) return Status::Ok();
  for (auto& [key, entry] : entries_) loaded[key] = std::move(entry);
  entries_ = std::move(loaded);
  return Status::Ok();
}

Status FileHasher::SaveCache(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!changed_) return Status::Ok();
  std::error_code error;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), error);
  const std::string temporary = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    for (const auto& [key, entry] : entries_) {
      out << entry.sha256 << '\t' << std::get<1>(key) << '\t' << std::get<2>(key) << '\t';
      if (entry.probe) out << ProbeText(*entry.probe) << '\t';
      out << std::get<0>(key) << '\n';
    }
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      return Status::IoError(temporary + ": the file-hash cache cannot be written");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Status::IoError(path + ": the file-hash cache cannot be replaced");
  }
  return Status::Ok();
}

std::string DefaultHashCachePath() {
  if (const char* explicit_path = std::getenv("STYLESWEEP_HASH_CACHE"); explicit_path != nullptr && *explicit_path) {
    return explicit_path;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg) {
    return (fs::path(xdg) / "stylesweep" / "file-hashes.tsv").string();
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home) {
    return (fs::path(home) / ".cache" / "stylesweep" / "file-hashes.tsv").string();
  }
  return "";
}

}  // namespace stylesweep
