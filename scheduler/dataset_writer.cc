#include "scheduler/dataset_writer.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "engine/image_io.h"
#include "scheduler/run_params.h"
#include "store/json_output.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;

// The scores as a JSON object; the judge's id is an integer.
nlohmann::json ScoresJson(const std::map<std::string, double>& scores) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : scores) {
    if (key == "eval/judge_id") out[key] = static_cast<std::int64_t>(value);
    else out[key] = value;
  }
  return out;
}

}  // namespace

Result<std::string> ContentImageAsSeen(const JobSpec& job, int width, int height) {
  SS_ASSIGN_OR_RETURN(Image content, LoadImage(job.content_path));
  SS_ASSIGN_OR_RETURN(Image resized, ResizeImage(content, width, height, job.options.resize_filter));
  SS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> png, EncodePng(resized));
  return std::string(png.begin(), png.end());
}

DatasetWriter::DatasetWriter(const OutputSpec& output, const std::string& sweep_name) : dir_(output.dataset_dir) {
  include_content_ = output.include_content;
  if (enabled() && output.format == "webdataset") {
    shards_ = std::make_unique<TarShardWriter>(TarShardOptions{dir_, sweep_name, output.shard_size});
  }
}

Status DatasetWriter::Load() {
  if (!enabled()) return Status::Ok();
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) return Status::IoError("cannot create dataset folder " + dir_ + ": " + error.message());
  if (shards_) SS_RETURN_IF_ERROR(shards_->Open());
  std::ifstream in(ManifestPath());
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.contains("job_key") || !entry["job_key"].is_string()) continue;
    const std::string key = entry["job_key"].get<std::string>();
    if (lines_.emplace(key, line).second) order_.push_back(key);
  }
  return Status::Ok();
}

Status DatasetWriter::Write(const JobSpec& job, std::int64_t run_id, const EncodedImage& image,
                            const std::map<std::string, double>& scores) {
  const std::string file = (shards_ ? job.job_key : job.output_name) + ".png";
  if (!shards_) {
    std::error_code error;  // output.name may nest: "{style}/{content}"
    fs::create_directories((fs::path(dir_) / file).parent_path(), error);
    if (error) return Status::IoError("cannot create the folder for " + file + " in " + dir_ + ": " + error.message());
    SS_RETURN_IF_ERROR(WriteFileAtomically((fs::path(dir_) / file).string(),
                                           std::vector<std::uint8_t>(image.png.begin(), image.png.end())));
  }
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [key, value] : job.params) params[key] = TypedParamJson(key, value);
  std::vector<std::string> styles;
  for (const std::string& path : job.style_paths) styles.push_back(path);
  const std::string line = nlohmann::json{{"file", file},         {"job_key", job.job_key}, {"run_id", run_id},
                                          {"content", job.content_path}, {"style", styles},
                                          {"params", params},     {"repeat", job.repeat},
                                          {"scores", ScoresJson(scores)}}
                               .dump();
  if (shards_) SS_RETURN_IF_ERROR(AddSample(job, image, line));
  auto [it, inserted] = lines_.emplace(job.job_key, line);
  if (inserted) {
    order_.push_back(job.job_key);
    std::ofstream out(ManifestPath(), std::ios::app);
    out << line << '\n';
    out.flush();
    if (!out) return Status::IoError("cannot append to " + ManifestPath());
    return Status::Ok();
  }
  it->second = line;
  std::string text;
  for (const std::string& key : order_) text += lines_[key] + '\n';
  return WriteFileAtomically(ManifestPath(), std::vector<std::uint8_t>(text.begin(), text.end()));
}

Status DatasetWriter::Finish() { return shards_ ? shards_->Finish() : Status::Ok(); }

std::string DatasetWriter::ManifestPath() const { return (fs::path(dir_) / "manifest.jsonl").string(); }

// One webdataset sample: KEY.png, KEY.json (the manifest line) and, with
// include_content, KEY.content.png (ContentImageAsSeen).
Status DatasetWriter::AddSample(const JobSpec& job, const EncodedImage& image, const std::string& line) {
  std::vector<SampleFile> files = {{"png", std::string(image.png.begin(), image.png.end())}, {"json", line}};
  if (include_content_) {
    SS_ASSIGN_OR_RETURN(std::string content, ContentImageAsSeen(job, image.width, image.height));
    files.push_back({"content.png", std::move(content)});
  }
  return shards_->Add(job.job_key, files);
}

}  // namespace stylesweep
