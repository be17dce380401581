// A per-process cache of file digests (Sha256File, common/sha256.h).
//
// Sweep identities hash image and weights files by content, so that moving a
// file does not change a job's key. Weights files are large and every job of
// a sweep names the same ones, so FileHasher remembers each file's digest
// under (absolute path, size, modification time) and hashes again only when
// one of those changes. The cache can be kept between runs in a file
// (LoadCache / SaveCache, DefaultHashCachePath), so that a second `plan` or
// `sweep` over a large photo folder reads no image twice. For images it keeps
// what the header says (format and size, ProbeImage) under the same key, so
// a second run opens no unchanged image at all.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "common/sha256.h"
#include "common/status.h"
#include "experiments/image_probe.h"

namespace stylesweep {

// An image file's digest and header.
struct HashedImage {
  std::string sha256;
  ImageProbe probe;
};

// A cache of file digests. Thread-safe; digests are computed outside the lock.
class FileHasher {
 public:
  // The file's digest, from the cache when its path, size and modification
  // time are unchanged since it was last hashed.
  Result<std::string> Hash(const std::string& path);

  // An image's digest and header, both from the cache when its path, size
  // and modification time are unchanged; otherwise the header is read
  // (ProbeImage) and then, if the cache has no digest for it, the file is
  // hashed. A file that is not a readable PNG or JPEG gives ProbeImage's
  // error (kNotFound, kIoError, kCorrupt, kInvalidArgument for a folder).
  Result<HashedImage> HashImage(const std::string& path);

  // Number of files actually read and hashed (cache misses) so far.
  std::int64_t files_hashed() const;

  // Adds the digests in the cache file at `path` (written by SaveCache; one
  // "SHA256<TAB>SIZE<TAB>MTIME_NS<TAB>[IMAGE<TAB>]ABSOLUTE_PATH" line each,
  // IMAGE an image's "FORMAT:WIDTHxHEIGHT", e.g. "png:640x480"; a line
  // without it, as older versions wrote, has the digest only). A missing file
  // is an empty cache (Ok); malformed lines are ignored, so a cache cut short
  // only costs re-reading. kIoError when the file exists but cannot be read.
  Status LoadCache(const std::string& path);

  // Writes every digest (and image header) known, loaded or computed, to
  // `path`, creating its folder, through a temporary file and a rename so
  // that readers never see half a cache. Writes nothing when nothing was
  // hashed or probed since LoadCache.
  // kIoError naming the file on failure.
  Status SaveCache(const std::string& path) const;

  // Forced re-hashing (--rehash): entries loaded from a cache file are not
  // trusted; every file is read (and every image probed) again once in this
  // process, and SaveCache then writes the fresh entries. Call before the
  // first Hash.
  void set_rehash(bool rehash);

 private:
  using Key = std::tuple<std::string, std::uintmax_t, std::int64_t>;  // path, size, mtime (ns)
  struct Entry {
    std::string sha256;
    std::optional<ImageProbe> probe;  // images only, once probed
  };
  // The file's key (absolute path, size, modification time) or its error.
  static Result<Key> KeyOf(const std::string& path);
  // The cached entry for `key`, if any (a copy: the lock is released).
  std::optional<Entry> Cached(const Key& key) const;
  // Stores `entry` as the only one for its path.
  void Store(const Key& key, Entry entry);
  // Reads and hashes the file of `key`, counted in files_hashed().
  Result<std::string> ReadDigest(const Key& key);

  mutable std::mutex mutex_;
  std::map<Key, Entry> entries_;
  std::int64_t files_hashed_ = 0;
  bool changed_ = false;  // an entry was computed since LoadCache
  bool rehash_ = false;
};

// The cache file plan and sweep keep between runs: $STYLESWEEP_HASH_CACHE,
// else $XDG_CACHE_HOME/stylesweep/file-hashes.tsv, else
// $HOME/.cache/stylesweep/file-hashes.tsv; empty when none of them is set
// (no cache is kept).
std::string DefaultHashCachePath();

}  // namespace stylesweep
