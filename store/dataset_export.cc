#include "store/dataset_export.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/sha256.h"
#include "store/json_output.h"
#include "store/tar_shards.h"

namespace stylesweep {
namespace {

// A run's record in the manifest and beside each shard image, with JSON
// types as every JSON output (store/json_output.h): integers, arrays for
// list params, booleans for on/off settings, "nan"/"inf" for metrics JSON
// cannot hold.
nlohmann::json RecordJson(const RunRecord& run, const BoolParamKeys& bool_params) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [key, value] : run.params) params[key] = ParamJson(key, value, bool_params);
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [key, point] : run.latest_metrics) metrics[key] = NumberJson(point.value);
  return {{"job_key", run.config_hash}, {"run_id", run.id}, {"params", params}, {"metrics", metrics}};
}

}  // namespace

Result<DatasetExportSummary> ExportDataset(RunStore& store, const DatasetExportOptions& options) {
  if (options.format != "folder" && options.format != "webdataset") {
    return Status::InvalidArgument("--format must be folder or webdataset for a dataset, not '" + options.format + "'");
  }
  if (options.shard_size < 1) return Status::InvalidArgument("--shard-size must be at least 1");
  if (options.output_dir.empty()) return Status::InvalidArgument("give the dataset's folder: -o DIR");
  SS_RETURN_IF_ERROR(store.GetExperiment(options.experiment).status());
  RunQuery query;
  query.experiment = options.experiment;
  query.where = "status = 'finished'";
  SS_ASSIGN_OR_RETURN(std::vector<RunRecord> listed, store.ListRuns(query));

  std::error_code error;
  std::filesystem::create_directories(options.output_dir, error);
  if (error) return Status::IoError("cannot create " + options.output_dir + ": " + error.message());
  TarShardWriter shards({options.output_dir, options.experiment, options.shard_size});
  const bool webdataset = options.format == "webdataset";
  if (webdataset) SS_RETURN_IF_ERROR(shards.Open());

  DatasetExportSummary summary;
  std::string manifest;
  for (const RunRecord& brief : listed) {
    SS_ASSIGN_OR_RETURN(RunRecord run, store.GetRun(brief.id));
    const Artifact* final_image = nullptr;
    for (const Artifact& artifact : run.artifacts) {
      if (artifact.kind == ArtifactKind::kFinal) final_image = &artifact;
    }
    if (final_image == nullptr) {
      ++summary.no_image;
      continue;
    }
    SS_ASSIGN_OR_RETURN(std::string png, ReadWholeFile(store.ArtifactPath(*final_image)));
    nlohmann::json record = RecordJson(run, options.bool_params);
    if (webdataset) {
      SS_RETURN_IF_ERROR(shards.Add(run.config_hash, {{"png", png}, {"json", record.dump()}}));
    } else {
      const std::string file = run.config_hash + ".png";
      SS_RETURN_IF_ERROR(WriteFileAtomically((std::filesystem::path(options.output_dir) / file).string(), png));
      record["file"] = file;
      manifest += record.dump() + "\n";
    }
    ++summary.samples;
  }
  if (webdataset) {
    SS_RETURN_IF_ERROR(shards.Finish());
    summary.shards = shards.shards_written();
  } else {
    SS_RETURN_IF_ERROR(
        WriteFileAtomically((std::filesystem::path(options.output_dir) / "manifest.jsonl").string(), manifest));
  }
  return summary;
}

}  // namespace stylesweep
