// The file-hash cache that `plan` and `sweep` keep between runs
// (experiments/file_hash.h, DefaultHashCachePath): loaded before a sweep is
// expanded, saved after, so that a second run over a large photo folder
// reads no unchanged image again. --rehash distrusts it.
#pragma once

#include <ostream>
#include <string>

#include "experiments/file_hash.h"

namespace stylesweep {

// Loads the default cache into `hasher` (nothing with `rehash`, which makes
// every file be read again). A cache that cannot be read costs a warning on
// `err` naming `command`, never the run.
void LoadHashCache(FileHasher& hasher, bool rehash, const std::string& command, std::ostream& err);

// Saves `hasher`'s digests and image headers to the default cache when it
// hashed or probed anything; a failure is a warning on `err`.
void SaveHashCache(const FileHasher& hasher, const std::string& command, std::ostream& err);

}  // namespace stylesweep
