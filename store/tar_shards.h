// WebDataset output: samples packed into POSIX tar shards (ustar), the
// format Python's tarfile and the webdataset library read. A sample is a set
// of files sharing one key: KEY.png, KEY.json, KEY.content.png, ...
//
// Crash safety: a finished sample is first staged as files under
// DIR/.staging/ (KEY.json written last marks it complete); a shard is written
// to a temporary name and renamed into place as NAME-000000.tar,
// NAME-000001.tar, ... only when whole, and its staged files are removed
// after. A killed process therefore leaves whole shards and staged samples,
// never half a shard; Open picks the staged samples up again (dropping any
// already in a shard) and numbers new shards after the existing ones, so a
// resumed sweep appends shards and never rewrites finished ones.
//
// Thread safety: one object per folder, used from one thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace stylesweep {

struct TarShardOptions {
  std::string dir;          // the shards' folder (created by Open)
  std::string name;         // shard file prefix: NAME-000000.tar
  int shard_size = 1000;    // samples per shard; the last one may hold fewer
};

// One file of a sample: its extension after the key ("png", "json",
// "content.png") and its bytes.
using SampleFile = std::pair<std::string, std::string>;

// The member names of a tar file, in order; kIoError / kCorrupt naming it.
Result<std::vector<std::string>> ListTarMembers(const std::string& path);

class TarShardWriter {
 public:
  explicit TarShardWriter(TarShardOptions options);

  // Creates the folder, finds the existing shards (the next index follows
  // the highest) and the staged samples of an interrupted run. kIoError
  // naming the folder or a shard that cannot be read.
  Status Open();

  // Stages one sample (replacing a staged sample with the same key); when
  // shard_size samples are staged, writes them as the next shard. `key` must
  // not contain '.' or '/' (kInvalidArgument). kIoError naming the file.
  Status Add(const std::string& key, const std::vector<SampleFile>& files);

  // Writes the staged samples (fewer than shard_size) as a last shard; call
  // when the sweep finished, not when it was interrupted (then they wait
  // for the resumed run). No samples: nothing is written.
  Status Finish();

  int shards_written() const { return shards_written_; }  // by this object
  std::size_t staged() const { return staged_.size(); }   // samples waiting for a shard

 private:
  std::string StagingDir() const;
  std::string ShardPath(int index) const;
  // Writes the first `count` staged samples (by key) as shard next_index_.
  Status WriteShard(std::size_t count);

  TarShardOptions options_;
  int next_index_ = 0;
  int shards_written_ = 0;
  std::map<std::string, std::vector<std::string>> staged_;  // key -> its staged file names, json last
  std::set<std::string> packed_;  // keys already in a finished shard: Add skips them
};

}  // namespace stylesweep
