#include "scheduler/hash_cache.h"

namespace stylesweep {

void LoadHashCache(FileHasher& hasher, bool rehash, const std::string& command, std::ostream& err) {
  hasher.set_rehash(rehash);
  const std::string path = DefaultHashCachePath();
  if (path.empty() || rehash) return;
  if (Status loaded = hasher.LoadCache(path); !loaded.ok()) {
    err << "stylesweep " << command << ": warning: file-hash cache not used: " << loaded.message() << "\n";
  }
}

void SaveHashCache(const FileHasher& hasher, const std::string& command, std::ostream& err) {
  const std::string path = DefaultHashCachePath();
  if (path.empty()) return;
  if (Status saved = hasher.SaveCache(path); !saved.ok()) {
    err << "stylesweep " << command << ": warning: file-hash cache not saved: " << saved.message() << "\n";
  }
}

}  // namespace stylesweep
