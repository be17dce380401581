// DatasetWriter: a sweep's `output:` beyond the store. Each kept job's final
// image goes to output.dataset_dir (folder output: NAME.png under nested
// folders; webdataset: tar shards, store/tar_shards.h) with one line per job
// in manifest.jsonl (file, job_key, run_id, content, style, params, repeat,
// scores). A re-run replaces its jobs' lines and keeps the others.
//
// Threading: not thread-safe; the coordinator's thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "experiments/sweep.h"
#include "scheduler/job_executor.h"
#include "store/tar_shards.h"

namespace stylesweep {

class DatasetWriter {
 public:
  // `sweep_name` names the webdataset shards (NAME-000000.tar).
  DatasetWriter(const OutputSpec& output, const std::string& sweep_name);

  bool enabled() const { return !dir_.empty(); }

  // Creates the folder, opens the shards and reads an existing manifest so
  // that a re-run replaces its jobs' lines. kIoError when the folder cannot
  // be created.
  Status Load();

  // Writes the job's final image and its manifest line; `scores` (the
  // judge's eval/ metrics, may be empty) go into the line's "scores". With
  // webdataset and include_content, the sample also holds KEY.content.png:
  // the content image decoded and resized (the job's resize_filter) to the
  // final image's pixel size, as the network saw it, so pairs align.
  // kIoError / kCorrupt naming the file on failure; nothing is half-written.
  Status Write(const JobSpec& job, std::int64_t run_id, const EncodedImage& image,
               const std::map<std::string, double>& scores);

  // Webdataset: packs the samples still waiting into a last shard. Call
  // when the sweep ended normally (an interrupted one leaves them staged).
  Status Finish();

 private:
  std::string ManifestPath() const;
  Status AddSample(const JobSpec& job, const EncodedImage& image, const std::string& line);

  std::string dir_;
  bool include_content_ = false;
  std::unique_ptr<TarShardWriter> shards_;    // null: folder output
  std::map<std::string, std::string> lines_;  // job key -> manifest line
  std::vector<std::string> order_;            // job keys in file order
};

// The content image of `job` as the network saw it in its last stage: decoded
// and resized with the job's resize_filter to `width` x `height` (the final
// image's size), as PNG bytes. kNotFound / kCorrupt naming the file.
Result<std::string> ContentImageAsSeen(const JobSpec& job, int width, int height);

}  // namespace stylesweep
