#include "store/report.h"
#include "store/report_progress.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/clock.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "store/report_thumbnail.h"

namespace stylesweep {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The losses the sweep logs per iteration, in the order the page shows them.
const std::vector<std::string>& LossKeys() {
  static const std::vector<std::string> keys = {"total_loss", "content_loss", "style_loss", "tv_loss"};
  return keys;
}

// The page's value columns: the losses, then why and when a run stopped
// (stop/iteration, stop/converged: one value each, no curve).
std::vector<std::string> ShownValueKeys() {
  std::vector<std::string> keys = LossKeys();
  keys.insert(keys.end(), {"stop/iteration", "stop/converged"});
  return keys;
}

std::string ParamText(const RunRecord& run, const std::string& key) {
  auto it = run.params.find(key);
  return it == run.params.end() ? std::string() : it->second.ToText();
}

// Group ids of each run under `key` (first appearance order): two params with
// equal vectors split the runs the same way.
std::vector<int> Partition(const std::vector<RunRecord>& runs, const std::string& key) {
  std::map<std::string, int> ids;
  std::vector<int> groups;
  groups.reserve(runs.size());
  for (const RunRecord& run : runs) {
    groups.push_back(ids.emplace(ParamText(run, key), static_cast<int>(ids.size())).first->second);
  }
  return groups;
}

// True when every run's value of `key` is decided by its value of `axis`.
bool Follows(const std::vector<RunRecord>& runs, const std::string& key, const std::string& axis) {
  std::map<std::string, std::string> seen;
  for (const RunRecord& run : runs) {
    const auto [it, added] = seen.emplace(ParamText(run, axis), ParamText(run, key));
    if (!added && it->second != ParamText(run, key)) return false;
  }
  return true;
}

// A param as the page's grid and table show it: finite numbers as numbers,
// everything else (lists included) as its text. Not store/json_output.h's
// ParamJson, which keeps lists as arrays for programs to read.
json ParamCellJson(const ParamValue& value) {
  if (value.type == ParamValue::Type::kNumber) {
    if (std::isfinite(value.number)) return value.number;
    return value.ToText();
  }
  if (value.type == ParamValue::Type::kString) return value.text;
  return value.ToText();
}

// A finite number as JSON, else null (JSON has no NaN or infinity).
json Number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

// Rounds to 4 significant digits: curves are for looking at, and this halves
// their size in the page.
json Rounded(double value) {
  if (!std::isfinite(value)) return nullptr;
  if (value == 0) return 0;
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
  return std::strtod(text, nullptr);
}

std::string LinkFrom(const fs::path& report_dir, const std::string& target) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(target, ec);
  if (ec) return target;
  const fs::path relative = absolute.lexically_relative(report_dir);
  return relative.empty() ? absolute.string() : relative.string();
}

// The first param among `keys` that a run has, as a list of paths.
std::vector<std::string> ImagePaths(const RunRecord& run, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    auto it = run.params.find(key);
    if (it == run.params.end()) continue;
    const ParamValue& value = it->second;
    if (value.type == ParamValue::Type::kString) return {value.text};
    std::vector<std::string> paths;
    if (value.type == ParamValue::Type::kList) {
      for (const ParamValue& item : value.items) {
        if (item.type == ParamValue::Type::kString) paths.push_back(item.text);
      }
    }
    return paths;
  }
  return {};
}

class ReportBuilder {
 public:
  ReportBuilder(RunStore* store, const ReportOptions& options) : store_(store), options_(options) {
    std::error_code ec;
    report_dir_ = fs::absolute(fs::path(options.output_path).parent_path(), ec);
  }

  Result<ReportSummary> Build() {
    SS_RETURN_IF_ERROR(LoadRuns());
    json data;
    data["mode"] = options_.runs.empty() ? "experiment" : "compare";
    data["generated"] = EpochSeconds();
    data["store"] = store_->dir();
    data["experiment"] = ExperimentJson();
    data["progress"] = ReportProgressJson(store_->dir(), options_.experiment, options_.follow_every);
    SS_RETURN_IF_ERROR(AddParams(data));
    data["loss_keys"] = ShownValueKeys();
    json runs = json::array();
    for (const RunRecord& record : runs_) {
      runs.push_back(RunJson(record));
    }
    data["runs"] = std::move(runs);
    data["sources"] = std::move(sources_);
    data["limits"] = {{"max_thumbnails", options_.max_thumbnails},
                      {"thumbnail_px", options_.thumbnail_px},
                      {"curve_points", curve_points_},
                      {"max_table_rows", options_.max_table_rows}};
    if (thumbnails_skipped_ > 0) {
      notes_.push_back("thumbnails are embedded for " + std::to_string(options_.max_thumbnails) +
                       " runs (whole grids first); " + std::to_string(thumbnails_skipped_) +
                       " more runs link to their full-size image only");
    }
    data["notes"] = notes_;
    summary_.notes = notes_;

    const std::string html = RenderReportHtml(data.dump(-1, ' ', false, json::error_handler_t::replace));
    SS_RETURN_IF_ERROR(WriteFileAtomically(options_.output_path, html));
    summary_.output_path = options_.output_path;
    summary_.runs = static_cast<int64_t>(runs_.size());
    summary_.bytes = static_cast<int64_t>(html.size());
    return summary_;
  }

 private:
  Status LoadRuns() {
    std::vector<int64_t> ids;
    if (!options_.runs.empty()) {
      for (const std::string& text : options_.runs) {
        SS_ASSIGN_OR_RETURN(int64_t id, store_->ResolveRunId(text));
        ids.push_back(id);
      }
    } else {
      if (options_.experiment.empty()) {
        return Status::InvalidArgument("a report needs an experiment (-e EXP) or runs to compare (--runs)");
      }
      SS_ASSIGN_OR_RETURN(experiment_, store_->GetExperiment(options_.experiment));
      RunQuery query;
      query.experiment = options_.experiment;
      query.where = options_.where;
      SS_ASSIGN_OR_RETURN(std::vector<RunRecord> listed, store_->ListRuns(query));
      for (const RunRecord& run : listed) ids.push_back(run.id);
    }
    for (int64_t id : ids) {
      SS_ASSIGN_OR_RETURN(RunRecord run, store_->GetRun(id));
      runs_.push_back(std::move(run));
    }
    // Curve budget: max_curve_points per curve, fewer when the whole report
    // would pass max_total_curve_points; never fewer than 20.
    const int64_t curves = std::max<int64_t>(1, static_cast<int64_t>(runs_.size() * LossKeys().size()));
    curve_points_ = static_cast<int>(std::clamp<int64_t>(options_.max_total_curve_points / curves, 20,
                                                         std::max(20, options_.max_curve_points)));
    if (curve_points_ < options_.max_curve_points) {
      notes_.push_back("loss curves downsampled to " + std::to_string(curve_points_) + " points each (" +
                       std::to_string(runs_.size()) + " runs)");
    }
    return Status::Ok();
  }

  json ExperimentJson() const {
    if (!options_.runs.empty()) return {{"name", "compare runs"}};
    json counts = json::object();
    for (const auto& [status, count] : experiment_.run_counts) counts[RunStatusName(status)] = count;
    return {{"name", experiment_.name},
            {"created", experiment_.created_time},
            {"code_version", experiment_.code_version},
            {"where", options_.where},
            {"run_counts", counts}};
  }

  // Params that vary (in grid-priority order) and those that are constant,
  // and the grid axes.
  Status AddParams(json& data) {
    std::set<std::string> keys;
    for (const RunRecord& run : runs_) {
      for (const auto& [key, value] : run.params) keys.insert(key);
    }
    json varying = json::array();
    json constant = json::object();
    for (const std::string& key : keys) {
      std::set<std::string> values;
      for (const RunRecord& run : runs_) values.insert(ParamText(run, key));
      if (values.size() > 1) {
        varying.push_back(key);
      } else {
        constant[key] = runs_.empty() || runs_[0].params.count(key) == 0 ? json("") : ParamCellJson(runs_[0].params.at(key));
      }
    }
    data["varying"] = varying;
    data["constant"] = constant;
    const std::vector<std::string> swept = SweptParamKeys(experiment_.sweep_text);
    data["swept"] = swept;
    if (options_.runs.empty()) {
      SS_ASSIGN_OR_RETURN(GridAxes axes, ChooseGridAxes(runs_, swept, options_.rows, options_.cols));
      data["grid"] = {{"rows", axes.rows}, {"cols", axes.cols}};
      summary_.rows = axes.rows;
      summary_.cols = axes.cols;
    }
    ChooseThumbnailRuns(varying, summary_.rows, summary_.cols);
    data["content_keys"] = options_.content_keys;
    data["style_keys"] = options_.style_keys;
    return Status::Ok();
  }

  // Which runs get an embedded thumbnail when there are more than
  // max_thumbnails: whole grids first. Runs are taken grid by grid (a grid is
  // one combination of the varying params that are not axes, in the order the
  // page draws them), so the first grids are complete and the later ones link
  // to full-size images, rather than every grid missing the same columns.
  void ChooseThumbnailRuns(const json& varying, const std::string& rows, const std::string& cols) {
    // As the page does: a param that follows an axis splits no grid.
    std::vector<std::string> facet_keys;
    for (const std::string key : varying) {
      if (key == rows || key == cols) continue;
      if ((!rows.empty() && Follows(runs_, key, rows)) || (!cols.empty() && Follows(runs_, key, cols))) continue;
      facet_keys.push_back(key);
    }
    std::map<std::string, size_t> facet_order;
    std::vector<std::pair<size_t, size_t>> order;  // (facet, position in runs_)
    for (size_t i = 0; i < runs_.size(); ++i) {
      std::string facet;
      for (const std::string& key : facet_keys) facet += ParamText(runs_[i], key) + '\x1f';
      order.emplace_back(facet_order.emplace(facet, facet_order.size()).first->second, i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [facet, i] : order) {
      const bool has_image = std::any_of(runs_[i].artifacts.begin(), runs_[i].artifacts.end(),
                                         [](const Artifact& a) { return a.kind == ArtifactKind::kFinal; });
      if (!has_image) continue;
      if (static_cast<int>(thumbnail_runs_.size()) >= options_.max_thumbnails) {
        ++thumbnails_skipped_;
        continue;
      }
      thumbnail_runs_.insert(runs_[i].id);
    }
  }

  // Index into data.sources of the thumbnail of a content or style image.
  json SourceRef(const std::string& path) {
    auto it = source_index_.find(path);
    if (it != source_index_.end()) return it->second;
    std::string resolved = path;
    if (fs::path(path).is_relative() && !fs::exists(path)) resolved = (fs::path(store_->dir()) / path).string();
    json source = {{"path", path}, {"name", fs::path(path).filename().string()}, {"link", LinkFrom(report_dir_, resolved)}};
    auto thumb = MakeThumbnail(resolved, options_.source_thumbnail_px, options_.thumbnail_quality);
    if (thumb.ok()) {
      source["thumb"] = thumb->data_uri;
    } else {
      source["error"] = thumb.status().message();
    }
    const int index = static_cast<int>(sources_.size());
    sources_.push_back(std::move(source));
    source_index_[path] = index;
    return index;
  }

  // A run's loss curves, downsampled: {"s": steps, "<key>": values} when
  // every loss was logged at the same steps (what the sweep does; the steps
  // are then stored once), else {"<key>": {"s": steps, "v": values}}.
  json CurvesJson(int64_t run_id) {
    std::vector<std::pair<std::string, std::vector<MetricPoint>>> histories;
    for (const std::string& key : LossKeys()) {
      auto history = store_->GetMetricHistory(run_id, key);
      if (history.ok() && !history->empty()) histories.emplace_back(key, std::move(history).value());
    }
    json curves = json::object();
    if (histories.empty()) return curves;
    auto steps_of = [](const std::vector<MetricPoint>& points) {
      std::vector<int64_t> steps;
      steps.reserve(points.size());
      for (const MetricPoint& point : points) steps.push_back(point.step);
      return steps;
    };
    const std::vector<int64_t> first_steps = steps_of(histories.front().second);
    const bool shared = std::all_of(histories.begin(), histories.end(),
                                    [&](const auto& entry) { return steps_of(entry.second) == first_steps; });
    if (shared) {
      const std::vector<size_t> kept = DownsampleIndices(first_steps, static_cast<size_t>(curve_points_));
      json s = json::array();
      for (size_t index : kept) s.push_back(first_steps[index]);
      curves["s"] = std::move(s);
      for (const auto& [key, points] : histories) {
        json v = json::array();
        for (size_t index : kept) v.push_back(Rounded(points[index].value));
        curves[key] = std::move(v);
      }
      return curves;
    }
    for (const auto& [key, points] : histories) {
      json s = json::array(), v = json::array();
      for (size_t index : DownsampleIndices(steps_of(points), static_cast<size_t>(curve_points_))) {
        s.push_back(points[index].step);
        v.push_back(Rounded(points[index].value));
      }
      curves[key] = {{"s", std::move(s)}, {"v", std::move(v)}};
    }
    return curves;
  }

  json RunJson(const RunRecord& run) {
    json params = json::object();
    for (const auto& [key, value] : run.params) params[key] = ParamCellJson(value);
    json final_losses = json::object();
    for (const auto& [key, point] : run.latest_metrics) final_losses[key] = Number(point.value);
    json timings = json::object();
    double job_seconds = 0;
    for (const PhaseTiming& timing : run.timings) {
      timings[timing.phase] = Number(timing.seconds);
      job_seconds += timing.seconds;
    }
    if (const auto duration = run.duration(); duration.has_value()) job_seconds = *duration;
    int64_t iterations = 0;
    if (auto it = run.latest_metrics.find("total_loss"); it != run.latest_metrics.end()) iterations = it->second.step + 1;
    json item = {{"id", run.id},
                 {"hash", run.config_hash.substr(0, 12)},
                 {"experiment", run.experiment},
                 {"status", RunStatusName(run.status)},
                 {"error", run.error_message},
                 {"attempts", run.attempts},
                 {"host", run.host},
                 {"device", run.device},
                 {"params", std::move(params)},
                 {"final", std::move(final_losses)},
                 {"timings", std::move(timings)},
                 {"iterations", iterations},
                 {"job_seconds", job_seconds > 0 ? Number(job_seconds) : json(nullptr)}};
    for (const PhaseTiming& timing : run.timings) {
      if (timing.phase == "optimize" && iterations > 0) {
        item["ms_per_iteration"] = Number(1000.0 * timing.seconds / static_cast<double>(iterations));
      }
    }
    item["curves"] = CurvesJson(run.id);

    const Artifact* final_image = nullptr;
    for (const Artifact& artifact : run.artifacts) {
      if (artifact.kind == ArtifactKind::kFinal && (final_image == nullptr || artifact.step > final_image->step)) {
        final_image = &artifact;
      }
    }
    if (final_image != nullptr) {
      const std::string path = store_->ArtifactPath(*final_image);
      item["full"] = LinkFrom(report_dir_, path);
      item["full_size"] = {final_image->width, final_image->height};
      if (thumbnail_runs_.count(run.id) != 0) {
        auto thumb = MakeThumbnail(path, options_.thumbnail_px, options_.thumbnail_quality);
        if (thumb.ok()) {
          item["thumb"] = thumb->data_uri;
          ++summary_.thumbnails;
        } else {
          item["thumb_error"] = thumb.status().message();
        }
      }
    }
    json content = json::array(), style = json::array();
    for (const std::string& path : ImagePaths(run, options_.content_keys)) content.push_back(SourceRef(path));
    for (const std::string& path : ImagePaths(run, options_.style_keys)) style.push_back(SourceRef(path));
    item["content"] = std::move(content);
    item["style"] = std::move(style);
    if (run.status == RunStatus::kFailed || run.status == RunStatus::kKilled) ++summary_.failed;
    return item;
  }

  RunStore* store_;
  const ReportOptions& options_;
  fs::path report_dir_;
  Experiment experiment_;
  std::vector<RunRecord> runs_;
  int curve_points_ = 200;
  int64_t thumbnails_skipped_ = 0;
  std::set<int64_t> thumbnail_runs_;  // runs whose final image is embedded
  json sources_ = json::array();
  std::map<std::string, int> source_index_;
  std::vector<std::string> notes_;
  ReportSummary summary_;
};

}  // namespace

std::vector<std::string> SweptParamKeys(const std::string& sweep_text) {
  std::vector<std::string> keys;
  if (sweep_text.empty()) return keys;
  try {
    const YAML::Node root = YAML::Load(sweep_text);
    const YAML::Node parameters = root["parameters"];
    if (!parameters || !parameters.IsMap()) return keys;
    for (const auto& entry : parameters) keys.push_back(entry.first.as<std::string>());
  } catch (const YAML::Exception&) {
    keys.clear();
  }
  return keys;
}

std::vector<size_t> DownsampleIndices(const std::vector<int64_t>& steps, size_t max_points) {
  std::vector<size_t> indices;
  const size_t n = steps.size();
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) indices.push_back(i);
    return indices;
  }
  if (max_points < 2) return max_points == 1 ? std::vector<size_t>{n - 1} : indices;
  // Targets evenly spaced in log(1 + step - first), mapped to the first index
  // at or past each target; duplicates collapse, so fill up linearly after.
  const double first = static_cast<double>(steps.front());
  const double span = std::log1p(static_cast<double>(steps.back()) - first);
  std::set<size_t> chosen = {0, n - 1};
  for (size_t k = 1; k + 1 < max_points; ++k) {
    const double target = first + std::expm1(span * static_cast<double>(k) / static_cast<double>(max_points - 1));
    const auto it = std::lower_bound(steps.begin(), steps.end(), static_cast<int64_t>(std::ceil(target)));
    chosen.insert(std::min(n - 1, static_cast<size_t>(it - steps.begin())));
  }
  // Log spacing crowds the first steps into the same indices; spend the
  // points it left over evenly across the rest.
  for (size_t k = 1; chosen.size() < max_points && k < max_points; ++k) {
    chosen.insert(k * (n - 1) / (max_points - 1));
  }
  for (size_t i = 0; chosen.size() < max_points && i < n; ++i) chosen.insert(i);
  indices.assign(chosen.begin(), chosen.end());
  return indices;
}

Result<GridAxes> ChooseGridAxes(const std::vector<RunRecord>& runs, const std::vector<std::string>& swept_order,
                                const std::string& rows, const std::string& cols) {
  std::set<std::string> keys;
  for (const RunRecord& run : runs) {
    for (const auto& [key, value] : run.params) keys.insert(key);
  }
  struct Candidate {
    std::string key;
    size_t values = 0;
    size_t priority = 0;  // position in the sweep's parameters; past them: not swept
  };
  std::vector<Candidate> candidates;
  for (const std::string& key : keys) {
    std::set<std::string> values;
    for (const RunRecord& run : runs) values.insert(ParamText(run, key));
    if (values.size() < 2) continue;
    const auto swept = std::find(swept_order.begin(), swept_order.end(), key);
    candidates.push_back({key, values.size(), static_cast<size_t>(swept - swept_order.begin())});
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.values != b.values) return a.values > b.values;
    return a.priority < b.priority;
  });
  auto check = [&](const std::string& key, const char* flag) -> Status {
    if (key.empty()) return Status::Ok();
    for (const Candidate& candidate : candidates) {
      if (candidate.key == key) return Status::Ok();
    }
    std::string listed;
    for (const Candidate& candidate : candidates) listed += (listed.empty() ? "" : ", ") + candidate.key;
    return Status::InvalidArgument(std::string(flag) + " " + key + ": " +
                                   (keys.count(key) ? "has the same value in every run" : "is not a param of these runs") +
                                   "; params that vary: " + (listed.empty() ? "none" : listed));
  };
  SS_RETURN_IF_ERROR(check(rows, "--rows"));
  SS_RETURN_IF_ERROR(check(cols, "--cols"));
  if (!rows.empty() && rows == cols) return Status::InvalidArgument("--rows and --cols name the same param " + rows);

  GridAxes axes{rows, cols};
  std::vector<std::vector<int>> taken;
  if (!rows.empty()) taken.push_back(Partition(runs, rows));
  if (!cols.empty()) taken.push_back(Partition(runs, cols));
  for (std::string* axis : {&axes.rows, &axes.cols}) {
    if (!axis->empty()) continue;
    for (const Candidate& candidate : candidates) {
      if (candidate.key == axes.rows || candidate.key == axes.cols) continue;
      const std::vector<int> partition = Partition(runs, candidate.key);
      if (std::find(taken.begin(), taken.end(), partition) != taken.end()) continue;
      *axis = candidate.key;
      taken.push_back(partition);
      break;
    }
  }
  if (axes.rows.empty() && !axes.cols.empty()) std::swap(axes.rows, axes.cols);
  return axes;
}

std::string DefaultReportPath(const std::string& store_dir, const std::string& experiment) {
  std::string name;
  for (char c : experiment) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return (fs::path(store_dir) / ("report-" + name + ".html")).string();
}

Result<ReportSummary> WriteReport(RunStore* store, const ReportOptions& options) {
  if (options.output_path.empty()) return Status::InvalidArgument("a report needs an output path (-o FILE)");
  if (options.thumbnail_px < 16 || options.source_thumbnail_px < 16) {
    return Status::InvalidArgument("thumbnails must be at least 16 px");
  }
  try {
    return ReportBuilder(store, options).Build();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("building the report: ") + e.what());
  }
}

}  // namespace stylesweep
