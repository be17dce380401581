#include "experiments/file_hash.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace stylesweep {

namespace fs = std::filesystem;

Result<std::string> FileHasher::Hash(const std::string& path) {
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
  Key key{absolute.lexically_normal().string(), size,
          std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count()};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = digests_.find(key);
    if (found != digests_.end()) return found->second;
  }
  SS_ASSIGN_OR_RETURN(std::string digest, Sha256File(absolute.string()));
  std::lock_guard<std::mutex> lock(mutex_);
  ++files_hashed_;
  // One entry per path: an older size or time of this file is stale.
  const std::string& file = std::get<0>(key);
  digests_.erase(digests_.lower_bound(Key{file, 0, std::numeric_limits<std::int64_t>::min()}),
                 digests_.upper_bound(Key{file, std::numeric_limits<std::uintmax_t>::max(),
                                          std::numeric_limits<std::int64_t>::max()}));
  digests_[key] = digest;
  return digest;
}

std::int64_t FileHasher::files_hashed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return files_hashed_;
}

void FileHasher::set_rehash(bool rehash) {
  std::lock_guard<std::mutex> lock(mutex_);
  rehash_ = rehash;
  if (rehash_) digests_.clear();
}

Status FileHasher::LoadCache(const std::string& path) {
  std::error_code error;
  if (!fs::exists(path, error)) return Status::Ok();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": the file-hash cache cannot be opened for reading");
  std::map<Key, std::string> loaded;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string digest, size_text, mtime_text, file;
    if (!std::getline(fields, digest, '\t') || !std::getline(fields, size_text, '\t') ||
        !std::getline(fields, mtime_text, '\t') || !std::getline(fields, file) || digest.size() != 64 ||
        file.empty()) {
      continue;
    }
    char* end = nullptr;
    const unsigned long long size = std::strtoull(size_text.c_str(), &end, 10);
    if (end == size_text.c_str() || *end != '\0') continue;
    const long long mtime = std::strtoll(mtime_text.c_str(), &end, 10);
    if (end == mtime_text.c_str() || *end != '\0') continue;
    loaded[Key{file, static_cast<std::uintmax_t>(size), static_cast<std::int64_t>(mtime)}] = digest;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (rehash_) return Status::Ok();
  loaded.insert(digests_.begin(), digests_.end());
  digests_ = std::move(loaded);
  return Status::Ok();
}

Status FileHasher::SaveCache(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (files_hashed_ == 0) return Status::Ok();
  std::error_code error;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), error);
  const std::string temporary = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    for (const auto& [key, digest] : digests_) {
      out << digest << '\t' << std::get<1>(key) << '\t' << std::get<2>(key) << '\t' << std::get<0>(key) << '\n';
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
