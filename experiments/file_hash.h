// A per-process cache of file digests (Sha256File, common/sha256.h).
//
// Sweep identities hash image and weights files by content, so that moving a
// file does not change a job's key. Weights files are large and every job of
// a sweep names the same ones, so FileHasher remembers each file's digest
// under (absolute path, size, modification time) and hashes again only when
// one of those changes.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "common/sha256.h"
#include "common/status.h"

namespace stylesweep {

// A cache of file digests. Thread-safe; digests are computed outside the lock.
class FileHasher {
 public:
  // The file's digest, from the cache when its path, size and modification
  // time are unchanged since it was last hashed.
  Result<std::string> Hash(const std::string& path);

  // Number of files actually read and hashed (cache misses) so far.
  std::int64_t files_hashed() const;

 private:
  using Key = std::tuple<std::string, std::uintmax_t, std::int64_t>;  // path, size, mtime (ns)
  mutable std::mutex mutex_;
  std::map<Key, std::string> digests_;
  std::int64_t files_hashed_ = 0;
};

}  // namespace stylesweep
