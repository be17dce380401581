#include "scheduler/job_scoring.h"

#include <chrono>
#include <cstdint>
#include <vector>

#include "engine/image_io.h"

namespace stylesweep {
namespace {

void AddNote(JobOutcome& outcome, const std::string& note) {
  outcome.note += (outcome.note.empty() ? "" : "; ") + note;
}

}  // namespace

JobScorer::JobScorer(std::string models_dir) : models_dir_(std::move(models_dir)) {}
JobScorer::~JobScorer() = default;

void JobScorer::Score(const JobSpec& job, JobOutcome& outcome) {
  const auto start = std::chrono::steady_clock::now();
  if (!tried_loading_) {
    tried_loading_ = true;
    Result<std::unique_ptr<Judge>> judge = Judge::Load(models_dir_);
    if (judge.ok()) judge_ = std::move(judge).value();
    else load_error_ = judge.status();
  }
  if (judge_ == nullptr) {
    AddNote(outcome, "not scored: " + load_error_.message());
    return;
  }
  Result<Image> image = DecodeImage(std::vector<std::uint8_t>(outcome.final_image.png.begin(), outcome.final_image.png.end()),
                                    "the final image");
  if (!image.ok()) {
    AddNote(outcome, "not scored: " + image.status().message());
    return;
  }
  const int step = outcome.final_image.step;
  Result<JudgeScores> scores = judge_->ScoreImage(*image, job.content_path, job.style_paths, job.options.style_blend);
  if (!scores.ok()) {
    AddNote(outcome, "not scored: " + scores.status().message());
    return;
  }
  const double wall = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& [key, value] : JudgeMetrics(*scores, judge_->identity())) {
    outcome.metrics.push_back({key, step, value, wall});
  }
  outcome.timings.push_back(
      {"evaluate", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
}

namespace {

// The style images and blend weights recorded with a run.
Status StyleInputs(const RunRecord& run, std::vector<std::string>* paths, std::vector<double>* blend) {
  auto found = run.params.find("style_paths");
  if (found == run.params.end() || found->second.type != ParamValue::Type::kList) {
    return Status::NotFound("no style_paths param");
  }
  for (const ParamValue& item : found->second.items) paths->push_back(item.text);
  auto weights = run.params.find("style_blend");
  if (weights != run.params.end() && weights->second.type == ParamValue::Type::kList) {
    for (const ParamValue& item : weights->second.items) blend->push_back(item.number);
  }
  return Status::Ok();
}

// Scores one stored run: its eval/ metrics at the final image's step.
Result<std::vector<MetricPoint>> ScoreRun(RunStore& store, Judge& judge, const RunRecord& run) {
  const Artifact* final_image = nullptr;
  for (const Artifact& artifact : run.artifacts) {
    if (artifact.kind == ArtifactKind::kFinal) final_image = &artifact;
  }
  if (final_image == nullptr) return Status::NotFound("no final image");
  auto content = run.params.find("content_path");
  if (content == run.params.end()) return Status::NotFound("no content_path param");
  std::vector<std::string> style_paths;
  std::vector<double> blend;
  SS_RETURN_IF_ERROR(StyleInputs(run, &style_paths, &blend));
  SS_ASSIGN_OR_RETURN(JudgeScores scores,
                      judge.ScoreFiles(store.ArtifactPath(*final_image), content->second.text, style_paths, blend));
  const double wall = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<MetricPoint> points;
  for (const auto& [key, value] : JudgeMetrics(scores, judge.identity())) {
    points.push_back({key, final_image->step, value, wall});
  }
  return points;
}

}  // namespace

Result<StoredScoringSummary> ScoreStoredRuns(RunStore& store, Judge& judge, const std::string& experiment) {
  RunQuery query;
  query.experiment = experiment;
  query.where = "status = 'finished'";
  SS_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, store.ListRuns(query));
  StoredScoringSummary summary;
  const double judge_id = static_cast<double>(judge.identity().id);
  for (const RunRecord& listed : runs) {
    auto recorded = listed.latest_metrics.find(kJudgeIdMetric);
    if (recorded != listed.latest_metrics.end() && recorded->second.value == judge_id) {
      ++summary.already_scored;
      continue;
    }
    SS_ASSIGN_OR_RETURN(RunRecord run, store.GetRun(listed.id));
    Result<std::vector<MetricPoint>> points = ScoreRun(store, judge, run);
    if (!points.ok()) {
      ++summary.failed;
      summary.errors.push_back("run " + std::to_string(run.id) + ": " + points.status().message());
      continue;
    }
    SS_RETURN_IF_ERROR(store.LogMetrics(run.id, *points));
    ++summary.scored;
  }
  return summary;
}

}  // namespace stylesweep
