#include "scheduler/job_executor.h"

#include <chrono>
#include <cstdlib>
#include <string>

#include "common/clock.h"
#include "engine/image.h"
#include "engine/image_io.h"

namespace stylesweep {

namespace {

int ParseNonNegative(const char* text) {
  if (text == nullptr || *text == '\0') return -1;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0) return -1;
  return static_cast<int>(value);
}

}  // namespace

std::vector<Result<JobOutcome>> JobExecutor::ExecuteBatch(const std::vector<JobSpec>& jobs,
                                                          const std::function<bool()>& should_stop) {
  std::vector<Result<JobOutcome>> outcomes;
  outcomes.reserve(jobs.size());
  for (const JobSpec& job : jobs) outcomes.push_back(Execute(job, should_stop));
  return outcomes;
}

Result<JobOutcome> NoopExecutor::Execute(const JobSpec& job, const std::function<bool()>& should_stop) {
  if (should_stop && should_stop()) return Status::Cancelled("stopped before job " + std::to_string(job.index) + " ran");
  static const std::string kOnePixelPng = [] {
    Image image;
    image.width = 1;
    image.height = 1;
    image.pixels = {0.5f, 0.5f, 0.5f};
    Result<std::vector<std::uint8_t>> png = EncodePng(image);
    return png.ok() ? std::string(png->begin(), png->end()) : std::string();
  }();
  JobOutcome outcome;
  const double now = EpochSeconds();
  for (const char* key : {"total_loss", "content_loss", "style_loss", "tv_loss"}) {
    outcome.metrics.push_back(MetricPoint{key, 1, 0.0, now});
  }
  outcome.timings = {{"optimize", 0.0}};
  outcome.final_image = EncodedImage{kOnePixelPng, 1, 1, 1};
  outcome.device = "cpu";
  return outcome;
}

std::string ResolveJobDevice(const std::string& requested, int local_rank, int device_count) {
  if (requested != "cuda" || device_count <= 0) return requested;
  return "cuda:" + std::to_string(local_rank % device_count);
}

int LocalRankFromEnvironment() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"}) {
    const int value = ParseNonNegative(std::getenv(name));
    if (value >= 0) return value;
  }
  return 0;
}

}  // namespace stylesweep
