// Rebuilds an experiment's dataset output from the store alone (`stylesweep
// export -e EXP --format folder|webdataset -o DIR`): every FINISHED run's
// final image with a JSON record of its settings, job key and latest metrics.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/run_store.h"

namespace stylesweep {

struct DatasetExportOptions {
  std::string experiment;      // required: the experiment's name
  std::string output_dir;      // required: created when missing
  std::string format = "folder";  // "folder": KEY.png + manifest.jsonl; "webdataset": NAME-000000.tar shards
  int shard_size = 1000;       // webdataset: samples per shard, >= 1
  BoolParamKeys bool_params;   // on/off settings: JSON booleans in the records (store/run_types.h)
};

struct DatasetExportSummary {
  std::int64_t samples = 0;    // finished runs written
  std::int64_t no_image = 0;   // finished runs without a final image (left out)
  int shards = 0;              // webdataset: shards written
};

// Writes the dataset. KEY is the run's job key (config hash); a sample's JSON
// is {"job_key", "run_id", "params" (typed: numbers as numbers, the options'
// bool_params as booleans), "metrics" (latest value per key)}. Webdataset
// shards are named after the experiment (store/tar_shards.h; an existing
// folder is continued, not rewritten).
// kNotFound for an unknown experiment, kInvalidArgument for a bad format or
// shard size, kIoError naming a file that cannot be read or written.
Result<DatasetExportSummary> ExportDataset(RunStore& store, const DatasetExportOptions& options);

}  // namespace stylesweep
