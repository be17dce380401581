#include "scheduler/wire.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace stylesweep {

namespace {

using nlohmann::json;

// Header + blobs -> one message.
std::string Pack(const json& header, const std::vector<const std::string*>& blobs) {
  const std::string text = header.dump();
  const auto length = static_cast<std::uint32_t>(text.size());
  std::size_t total = 4 + text.size();
  for (const std::string* blob : blobs) total += blob->size();
  std::string bytes;
  bytes.reserve(total);
  for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>((length >> shift) & 0xff));
  bytes += text;
  for (const std::string* blob : blobs) bytes += *blob;
  return bytes;
}

struct Unpacked {
  json header;
  std::size_t blob_offset = 0;  // where the blobs start in the message
};

Result<Unpacked> Unpack(const std::string& bytes, const char* what) {
  if (bytes.size() < 4) return Status::Corrupt(std::string(what) + " message of " + std::to_string(bytes.size()) + " bytes is too short");
  std::uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (length > bytes.size() - 4) {
    return Status::Corrupt(std::string(what) + " message header of " + std::to_string(length) +
                           " bytes exceeds the message (" + std::to_string(bytes.size()) + " bytes)");
  }
  Unpacked unpacked;
  unpacked.header = json::parse(bytes.begin() + 4, bytes.begin() + 4 + length, nullptr, false);
  if (unpacked.header.is_discarded() || !unpacked.header.is_object()) {
    return Status::Corrupt(std::string(what) + " message header is not a JSON object");
  }
  unpacked.blob_offset = 4 + length;
  return unpacked;
}

// Takes the next blob of `size` bytes.
Result<std::string> TakeBlob(const std::string& bytes, std::size_t& offset, std::size_t size) {
  if (size > bytes.size() - offset) return Status::Corrupt("report message is truncated: an image needs " + std::to_string(size) + " more bytes");
  std::string blob = bytes.substr(offset, size);
  offset += size;
  return blob;
}

json EncodeNumber(double value) {
  if (std::isfinite(value)) return value;
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

double DecodeNumber(const json& value) {
  if (value.is_number()) return value.get<double>();
  const std::string text = value.get<std::string>();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  return std::numeric_limits<double>::quiet_NaN();
}

json ImageHeader(const EncodedImage& image) {
  return json{{"bytes", image.png.size()}, {"width", image.width}, {"height", image.height}, {"step", image.step}};
}

Result<EncodedImage> ImageFrom(const json& header, const std::string& bytes, std::size_t& offset) {
  EncodedImage image;
  SS_ASSIGN_OR_RETURN(image.png, TakeBlob(bytes, offset, header.at("bytes").get<std::size_t>()));
  image.width = header.at("width").get<int>();
  image.height = header.at("height").get<int>();
  image.step = header.at("step").get<int>();
  return image;
}

// Runs `decode`, turning nlohmann's exceptions (missing key, wrong type) into kCorrupt.
template <typename T, typename F>
Result<T> Guarded(const char* what, F&& decode) {
  try {
    return decode();
  } catch (const std::exception& error) {
    return Status::Corrupt(std::string(what) + " message is malformed: " + error.what());
  }
}

}  // namespace

std::string EncodeHello(const WorkerHello& hello) {
  return Pack(json{{"host", hello.host}, {"rank", hello.rank}, {"local_rank", hello.local_rank},
                   {"pid", hello.pid}, {"gpu", hello.gpu}},
              {});
}

Result<WorkerHello> DecodeHello(const std::string& bytes) {
  SS_ASSIGN_OR_RETURN(Unpacked unpacked, Unpack(bytes, "ready"));
  return Guarded<WorkerHello>("ready", [&]() -> Result<WorkerHello> {
    const json& h = unpacked.header;
    return WorkerHello{h.at("host").get<std::string>(), h.at("rank").get<int>(), h.at("local_rank").get<int>(),
                       h.at("pid").get<int>(), h.at("gpu").get<std::string>()};
  });
}

namespace {

json AssignmentHeader(const JobAssignment& assignment) {
  const JobSpec& job = assignment.job;
  return json{{"run_id", assignment.run_id},
              {"index", job.index},
              {"job_key", job.job_key},
              {"content", job.content_path},
              {"style", job.style_paths},
              {"options", StyleOptionsToMap(job.options)},
              {"params", job.params},
              {"repeat", job.repeat},
              {"cost", job.cost},
              {"style_key", job.style_key},
              {"output_name", job.output_name}};
}

// Throws nlohmann exceptions on missing keys (callers guard).
Result<JobAssignment> AssignmentFromHeader(const json& h) {
  JobAssignment assignment;
  assignment.run_id = h.at("run_id").get<std::int64_t>();
  JobSpec& job = assignment.job;
  job.index = h.at("index").get<int>();
  job.job_key = h.at("job_key").get<std::string>();
  job.content_path = h.at("content").get<std::string>();
  job.style_paths = h.at("style").get<std::vector<std::string>>();
  for (const auto& [key, value] : h.at("options").items()) {
    Status set = SetStyleOption(job.options, key, value.get<std::string>());
    if (!set.ok()) return Status::Corrupt("job message carries a bad setting: " + set.message());
  }
  job.params = h.at("params").get<std::vector<std::pair<std::string, std::string>>>();
  job.repeat = h.at("repeat").get<int>();
  job.cost = h.at("cost").get<double>();
  job.style_key = h.at("style_key").get<std::string>();
  job.output_name = h.at("output_name").get<std::string>();
  return assignment;
}

}  // namespace

std::string EncodeAssignment(const JobAssignment& assignment) { return Pack(AssignmentHeader(assignment), {}); }

Result<JobAssignment> DecodeAssignment(const std::string& bytes) {
  SS_ASSIGN_OR_RETURN(Unpacked unpacked, Unpack(bytes, "job"));
  return Guarded<JobAssignment>("job", [&]() -> Result<JobAssignment> { return AssignmentFromHeader(unpacked.header); });
}

std::string EncodeAssignments(const std::vector<JobAssignment>& assignments) {
  if (assignments.size() == 1) return EncodeAssignment(assignments.front());
  json batch = json::array();
  for (const JobAssignment& assignment : assignments) batch.push_back(AssignmentHeader(assignment));
  return Pack(json{{"batch", batch}}, {});
}

Result<std::vector<JobAssignment>> DecodeAssignments(const std::string& bytes) {
  SS_ASSIGN_OR_RETURN(Unpacked unpacked, Unpack(bytes, "job"));
  return Guarded<std::vector<JobAssignment>>("job", [&]() -> Result<std::vector<JobAssignment>> {
    std::vector<JobAssignment> assignments;
    if (!unpacked.header.contains("batch")) {
      SS_ASSIGN_OR_RETURN(JobAssignment single, AssignmentFromHeader(unpacked.header));
      assignments.push_back(std::move(single));
      return assignments;
    }
    const json& batch = unpacked.header.at("batch");
    if (!batch.is_array() || batch.empty()) return Status::Corrupt("job message has an empty or malformed batch");
    for (const json& header : batch) {
      SS_ASSIGN_OR_RETURN(JobAssignment assignment, AssignmentFromHeader(header));
      assignments.push_back(std::move(assignment));
    }
    return assignments;
  });
}

std::string EncodeReport(const JobReport& report) {
  const JobOutcome& outcome = report.outcome;
  json header{{"run_id", report.run_id},
              {"code", static_cast<int>(report.status.code())},
              {"message", report.status.message()}};
  std::vector<const std::string*> blobs;
  if (report.status.ok()) {
    json keys = json::array(), steps = json::array(), values = json::array(), walls = json::array();
    for (const MetricPoint& point : outcome.metrics) {
      keys.push_back(point.key);
      steps.push_back(point.step);
      values.push_back(EncodeNumber(point.value));
      walls.push_back(point.wall_time);
    }
    header["metrics"] = json{{"key", keys}, {"step", steps}, {"value", values}, {"wall", walls}};
    json timings = json::array();
    for (const PhaseTiming& timing : outcome.timings) timings.push_back(json{timing.phase, timing.seconds});
    header["timings"] = timings;
    header["final"] = ImageHeader(outcome.final_image);
    blobs.push_back(&outcome.final_image.png);
    json snapshots = json::array();
    for (const EncodedImage& snapshot : outcome.snapshots) {
      snapshots.push_back(ImageHeader(snapshot));
      blobs.push_back(&snapshot.png);
    }
    header["snapshots"] = snapshots;
    header["device"] = outcome.device;
    header["note"] = outcome.note;
  }
  return Pack(header, blobs);
}

Result<JobReport> DecodeReport(const std::string& bytes) {
  SS_ASSIGN_OR_RETURN(Unpacked unpacked, Unpack(bytes, "report"));
  return Guarded<JobReport>("report", [&]() -> Result<JobReport> {
    const json& h = unpacked.header;
    JobReport report;
    report.run_id = h.at("run_id").get<std::int64_t>();
    const int code = h.at("code").get<int>();
    if (code < 0 || code > static_cast<int>(StatusCode::kInternal)) {
      return Status::Corrupt("report message has unknown status code " + std::to_string(code));
    }
    if (code != 0) {
      report.status = Status(static_cast<StatusCode>(code), h.at("message").get<std::string>());
      return report;
    }
    JobOutcome& outcome = report.outcome;
    const json& metrics = h.at("metrics");
    const json& keys = metrics.at("key");
    const json& steps = metrics.at("step");
    const json& values = metrics.at("value");
    const json& walls = metrics.at("wall");
    if (steps.size() != keys.size() || values.size() != keys.size() || walls.size() != keys.size()) {
      return Status::Corrupt("report message has metric columns of different lengths");
    }
    outcome.metrics.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      outcome.metrics.push_back(MetricPoint{keys[i].get<std::string>(), steps[i].get<std::int64_t>(),
                                            DecodeNumber(values[i]), walls[i].get<double>()});
    }
    for (const json& timing : h.at("timings")) {
      outcome.timings.push_back(PhaseTiming{timing.at(0).get<std::string>(), timing.at(1).get<double>()});
    }
    std::size_t offset = unpacked.blob_offset;
    SS_ASSIGN_OR_RETURN(outcome.final_image, ImageFrom(h.at("final"), bytes, offset));
    for (const json& snapshot : h.at("snapshots")) {
      SS_ASSIGN_OR_RETURN(EncodedImage image, ImageFrom(snapshot, bytes, offset));
      outcome.snapshots.push_back(std::move(image));
    }
    if (offset != bytes.size()) return Status::Corrupt("report message has " + std::to_string(bytes.size() - offset) + " unexpected trailing bytes");
    outcome.device = h.at("device").get<std::string>();
    outcome.note = h.at("note").get<std::string>();
    return report;
  });
}

}  // namespace stylesweep
