#include "experiments/file_hash.h"

#include <chrono>
#include <filesystem>

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
  digests_[key] = digest;
  return digest;
}

std::int64_t FileHasher::files_hashed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return files_hashed_;
}

}  // namespace stylesweep
