#include "store/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "store/json_output.h"
#include "store/query.h"

namespace stylesweep {
namespace {

nlohmann::json CellJson(const Cell& cell) {
  if (cell.missing) return nullptr;
  if (cell.number) return NumberJson(*cell.number);
  if (cell.list) return ParamJson(*cell.list);
  return cell.text;
}

std::string CellText(const Cell& cell, bool exact) {
  if (cell.missing) return exact ? "" : "-";
  if (cell.number) return exact || cell.integer ? FormatNumberExact(*cell.number) : FormatNumber(*cell.number);
  return cell.text;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

Cell ParamCell(const ParamValue& value) {
  if (value.type == ParamValue::Type::kNumber) return Cell::Number(value.number);
  if (value.type == ParamValue::Type::kList) return Cell::List(value);
  return Cell::Text(value.ToText());
}

std::string FormatTime(double seconds) {
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm tm{};
  localtime_r(&time, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

std::string Utf8Cut(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  size_t cut = width > 3 ? width - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80;
  return width;
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(const std::string& text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "csv") return OutputFormat::kCsv;
  if (text == "json") return OutputFormat::kJson;
  return Status::InvalidArgument("--format must be table, csv or json, not '" + text + "'");
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[40];
  if (value == std::floor(value) && std::fabs(value) < 1e6) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
  }
  return buffer;
}

std::string FormatNumberExact(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<long long>(value));
  return FormatShortestDouble(value);
}

std::string FormatDuration(double seconds) {
  char buffer[40];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
  } else if (seconds < 3600) {
    const int total = static_cast<int>(std::lround(seconds));
    std::snprintf(buffer, sizeof buffer, "%dm%02ds", total / 60, total % 60);
  } else {
    const int minutes = static_cast<int>(std::lround(seconds / 60));
    std::snprintf(buffer, sizeof buffer, "%dh%02dm", minutes / 60, minutes % 60);
  }
  return buffer;
}

std::string RenderTable(const Table& table, size_t max_cell_width) {
  const size_t columns = table.header.size();
  std::vector<size_t> widths(columns, 0);
  std::vector<bool> numeric(columns, true);
  std::vector<std::vector<std::string>> texts;
  for (size_t c = 0; c < columns; ++c) widths[c] = DisplayWidth(table.header[c]);
  for (const auto& row : table.rows) {
    std::vector<std::string> line;
    for (size_t c = 0; c < columns; ++c) {
      const Cell& cell = c < row.size() ? row[c] : Cell{};
      line.push_back(Utf8Cut(CellText(cell, false), max_cell_width));
      widths[c] = std::max(widths[c], DisplayWidth(line.back()));
      if (!cell.missing && !cell.number) numeric[c] = false;
    }
    texts.push_back(std::move(line));
  }
  auto emit = [&](const std::vector<std::string>& cells, std::string* out) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const size_t pad = widths[c] - DisplayWidth(cells[c]);
      if (c > 0) line += "  ";
      if (numeric[c]) line += std::string(pad, ' ') + cells[c];
      else line += cells[c] + (c + 1 < columns ? std::string(pad, ' ') : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    *out += line + "\n";
  };
  std::string out;
  emit(table.header, &out);
  std::vector<std::string> rule;
  for (size_t c = 0; c < columns; ++c) rule.push_back(std::string(widths[c], '-'));
  emit(rule, &out);
  for (const auto& line : texts) emit(line, &out);
  return out;
}

std::string RenderCsv(const Table& table) {
  std::string out;
  for (size_t c = 0; c < table.header.size(); ++c) out += (c ? "," : "") + CsvField(table.header[c]);
  out += "\r\n";
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + CsvField(CellText(row[c], true));
    out += "\r\n";
  }
  return out;
}

std::string RenderJson(const Table& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : table.rows) {
    nlohmann::json object = nlohmann::json::object();
    for (size_t c = 0; c < row.size() && c < table.header.size(); ++c) object[table.header[c]] = CellJson(row[c]);
    rows.push_back(std::move(object));
  }
  return rows.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string Render(const Table& table, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable: return RenderTable(table);
    case OutputFormat::kCsv: return RenderCsv(table);
    case OutputFormat::kJson: return RenderJson(table);
  }
  return "";
}

bool IsIdentifierMetric(const std::string& key) {
  const std::string suffix = "_id";
  return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Cell MetricCell(const std::string& key, double value) {
  return IsIdentifierMetric(key) ? Cell::Integer(value) : Cell::Number(value);
}

Cell RunCell(const RunRecord& run, const std::string& column) {
  if (column.rfind("params.", 0) == 0) {
    auto it = run.params.find(column.substr(7));
    return it == run.params.end() ? Cell::Missing() : ParamCell(it->second);
  }
  if (column.rfind("metrics.", 0) == 0) {
    auto it = run.latest_metrics.find(column.substr(8));
    return it == run.latest_metrics.end() ? Cell::Missing() : MetricCell(it->first, it->second.value);
  }
  if (column == "id") return Cell::Integer(static_cast<double>(run.id));
  if (column == "experiment") return Cell::Text(run.experiment);
  if (column == "config_hash") return Cell::Text(run.config_hash);
  if (column == "status") return Cell::Text(RunStatusName(run.status));
  if (column == "attempts") return Cell::Integer(run.attempts);
  if (column == "host") return run.host.empty() ? Cell::Missing() : Cell::Text(run.host);
  if (column == "rank") return run.rank < 0 ? Cell::Missing() : Cell::Number(run.rank);
  if (column == "device") return run.device.empty() ? Cell::Missing() : Cell::Text(run.device);
  if (column == "queued_time") return Cell::Text(FormatTime(run.queued_time));
  if (column == "start_time") return run.start_time ? Cell::Text(FormatTime(*run.start_time)) : Cell::Missing();
  if (column == "end_time") return run.end_time ? Cell::Text(FormatTime(*run.end_time)) : Cell::Missing();
  if (column == "duration") return run.duration() ? Cell::Number(*run.duration()) : Cell::Missing();
  if (column == "error") return run.error_message.empty() ? Cell::Missing() : Cell::Text(run.error_message);
  return Cell::Missing();
}

Status CheckRunColumns(const std::vector<std::string>& columns, const std::vector<std::string>& param_keys,
                       const std::vector<std::string>& metric_keys) {
  std::vector<std::string> known = query::RunAttributeNames();
  for (const std::string& key : param_keys) known.push_back("params." + key);
  for (const std::string& key : metric_keys) known.push_back("metrics." + key);
  for (const std::string& column : columns) {
    if (std::find(known.begin(), known.end(), column) != known.end()) continue;
    std::string message = "--columns: unknown column '" + column + "'";
    const std::string closest = query::ClosestMatch(column, known);
    if (!closest.empty()) message += " (did you mean '" + closest + "'?)";
    return Status::InvalidArgument(message + "; columns are run attributes (id, status, duration, ...), "
                                   "params.KEY and metrics.KEY");
  }
  return Status::Ok();
}

std::vector<std::string> DefaultRunColumns(const std::vector<RunRecord>& runs) {
  std::vector<std::string> columns = {"id", "experiment", "status", "attempts", "duration"};
  std::map<std::string, std::set<std::string>> values;  // param key -> distinct texts ("" = absent)
  std::set<std::string> metrics;
  for (const RunRecord& run : runs) {
    for (const auto& [key, value] : run.params) values[key].insert(value.ToText());
    for (const auto& entry : run.latest_metrics) metrics.insert(entry.first);
  }
  for (const auto& [key, texts] : values) {
    size_t present = 0;
    for (const RunRecord& run : runs) present += run.params.count(key);
    if (runs.size() <= 1 || texts.size() > 1 || present != runs.size()) columns.push_back("params." + key);
  }
  for (const std::string& key : metrics) columns.push_back("metrics." + key);
  return columns;
}

Table RunsTable(const std::vector<RunRecord>& runs, const std::vector<std::string>& columns) {
  Table table;
  table.header = columns;
  for (const RunRecord& run : runs) {
    std::vector<Cell> row;
    for (const std::string& column : columns) row.push_back(RunCell(run, column));
    table.rows.push_back(std::move(row));
  }
  return table;
}

Table ExperimentsTable(const std::vector<Experiment>& experiments) {
  Table table;
  table.header = {"experiment", "runs", "queued", "running", "finished", "failed", "killed", "created"};
  for (const Experiment& experiment : experiments) {
    int64_t total = 0;
    for (const auto& entry : experiment.run_counts) total += entry.second;
    auto count = [&](RunStatus status) {
      auto it = experiment.run_counts.find(status);
      return Cell::Integer(static_cast<double>(it == experiment.run_counts.end() ? 0 : it->second));
    };
    table.rows.push_back({Cell::Text(experiment.name), Cell::Integer(static_cast<double>(total)),
                          count(RunStatus::kQueued), count(RunStatus::kRunning), count(RunStatus::kFinished),
                          count(RunStatus::kFailed), count(RunStatus::kKilled),
                          Cell::Text(FormatTime(experiment.created_time))});
  }
  return table;
}

std::string RenderRunDetails(const RunRecord& run, const std::string& store_dir) {
  std::string out;
  auto line = [&](const std::string& label, const std::string& value) {
    out += "  " + label + std::string(label.size() < 14 ? 14 - label.size() : 1, ' ') + value + "\n";
  };
  out += "run " + std::to_string(run.id) + "\n";
  line("experiment", run.experiment);
  line("config hash", run.config_hash);
  line("status", RunStatusName(run.status));
  line("attempts", std::to_string(run.attempts));
  if (!run.host.empty()) line("worker", run.host + " rank " + std::to_string(run.rank) + " " + run.device);
  line("queued", FormatTime(run.queued_time));
  if (run.start_time) line("started", FormatTime(*run.start_time));
  if (run.end_time) line("ended", FormatTime(*run.end_time));
  if (run.duration()) line("duration", FormatDuration(*run.duration()));
  if (!run.error_message.empty()) line("error", run.error_message);

  Table params;
  params.header = {"param", "value"};
  for (const auto& [key, value] : run.params) params.rows.push_back({Cell::Text(key), Cell::Text(value.ToText())});
  out += "\n" + RenderTable(params, 200);

  if (!run.latest_metrics.empty()) {
    Table metrics;
    metrics.header = {"metric", "step", "value"};
    for (const auto& [key, point] : run.latest_metrics) {
      metrics.rows.push_back({Cell::Text(key), Cell::Integer(static_cast<double>(point.step)), MetricCell(key, point.value)});
    }
    out += "\n" + RenderTable(metrics);
  }
  if (!run.timings.empty()) {
    Table timings;
    timings.header = {"phase", "seconds"};
    for (const auto& timing : run.timings) timings.rows.push_back({Cell::Text(timing.phase), Cell::Number(timing.seconds)});
    out += "\n" + RenderTable(timings);
  }
  if (!run.artifacts.empty()) {
    Table artifacts;
    artifacts.header = {"artifact", "step", "size", "sha256", "path"};
    for (const auto& artifact : run.artifacts) {
      artifacts.rows.push_back({Cell::Text(ArtifactKindName(artifact.kind)), Cell::Integer(static_cast<double>(artifact.step)),
                                Cell::Text(std::to_string(artifact.width) + "x" + std::to_string(artifact.height)),
                                Cell::Text(artifact.sha256.substr(0, 12)), Cell::Text(store_dir + "/" + artifact.path)});
    }
    out += "\n" + RenderTable(artifacts, 400);
  }
  return out;
}

Table CompareTable(const std::vector<RunRecord>& runs, bool all_params) {
  Table table;
  table.header = {"key"};
  for (const RunRecord& run : runs) table.header.push_back("run " + std::to_string(run.id));
  std::set<std::string> params;
  std::set<std::string> metrics;
  for (const RunRecord& run : runs) {
    for (const auto& entry : run.params) params.insert(entry.first);
    for (const auto& entry : run.latest_metrics) metrics.insert(entry.first);
  }
  for (const std::string& key : params) {
    std::set<std::string> texts;
    for (const RunRecord& run : runs) {
      auto it = run.params.find(key);
      texts.insert(it == run.params.end() ? std::string(1, '\x01') + "absent" : it->second.ToText());
    }
    if (!all_params && texts.size() <= 1) continue;
    std::vector<Cell> row = {Cell::Text("params." + key)};
    for (const RunRecord& run : runs) row.push_back(RunCell(run, "params." + key));
    table.rows.push_back(std::move(row));
  }
  for (const std::string& column : {std::string("status"), std::string("duration")}) {
    std::vector<Cell> row = {Cell::Text(column)};
    for (const RunRecord& run : runs) row.push_back(RunCell(run, column));
    table.rows.push_back(std::move(row));
  }
  for (const std::string& key : metrics) {
    std::vector<Cell> row = {Cell::Text("metrics." + key)};
    for (const RunRecord& run : runs) row.push_back(RunCell(run, "metrics." + key));
    table.rows.push_back(std::move(row));
  }
  return table;
}

Table ExportTable(const std::vector<RunRecord>& runs, const std::string& store_dir) {
  std::vector<std::string> columns = {"id",   "experiment", "config_hash", "status",   "attempts", "host",
                                      "rank", "device",     "start_time",  "end_time", "duration", "error"};
  std::set<std::string> params, metrics, phases;
  for (const RunRecord& run : runs) {
    for (const auto& entry : run.params) params.insert(entry.first);
    for (const auto& entry : run.latest_metrics) metrics.insert(entry.first);
    for (const auto& timing : run.timings) phases.insert(timing.phase);
  }
  Table table;
  table.header = columns;
  for (const auto& key : params) table.header.push_back("params." + key);
  for (const auto& key : metrics) table.header.push_back("metrics." + key);
  for (const auto& phase : phases) table.header.push_back("timings." + phase);
  table.header.push_back("final_image");
  table.header.push_back("artifact_paths");
  for (const RunRecord& run : runs) {
    std::vector<Cell> row;
    for (const std::string& column : columns) row.push_back(RunCell(run, column));
    for (const auto& key : params) row.push_back(RunCell(run, "params." + key));
    for (const auto& key : metrics) row.push_back(RunCell(run, "metrics." + key));
    for (const auto& phase : phases) {
      Cell cell = Cell::Missing();
      for (const auto& timing : run.timings) {
        if (timing.phase == phase) cell = Cell::Number(timing.seconds);
      }
      row.push_back(cell);
    }
    Cell final_image = Cell::Missing();
    std::string paths;
    for (const Artifact& artifact : run.artifacts) {
      const std::string path = store_dir + "/" + artifact.path;
      if (artifact.kind == ArtifactKind::kFinal) final_image = Cell::Text(path);
      paths += (paths.empty() ? "" : ";") + path;
    }
    row.push_back(final_image);
    row.push_back(paths.empty() ? Cell::Missing() : Cell::Text(paths));
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::string ExportJson(const std::vector<RunRecord>& runs, const std::string& store_dir) {
  nlohmann::json out = nlohmann::json::array();
  auto optional = [](const std::optional<double>& value) -> nlohmann::json {
    if (value) return *value;
    return nullptr;
  };
  for (const RunRecord& run : runs) {
    nlohmann::json object;
    object["id"] = run.id;
    object["experiment"] = run.experiment;
    object["config_hash"] = run.config_hash;
    object["status"] = RunStatusName(run.status);
    object["attempts"] = run.attempts;
    for (const char* attribute : {"host", "rank", "device"}) object[attribute] = CellJson(RunCell(run, attribute));
    object["queued_time"] = run.queued_time;
    object["start_time"] = optional(run.start_time);
    object["end_time"] = optional(run.end_time);
    object["duration"] = optional(run.duration());
    object["error"] = CellJson(RunCell(run, "error"));
    object["params"] = nlohmann::json::object();
    for (const auto& [key, value] : run.params) object["params"][key] = ParamJson(value);
    object["metrics"] = nlohmann::json::object();
    for (const auto& [key, point] : run.latest_metrics) {
      object["metrics"][key] = CellJson(Cell::Number(point.value));
    }
    object["timings"] = nlohmann::json::object();
    for (const auto& timing : run.timings) object["timings"][timing.phase] = timing.seconds;
    object["artifacts"] = nlohmann::json::array();
    for (const Artifact& artifact : run.artifacts) {
      object["artifacts"].push_back({{"kind", ArtifactKindName(artifact.kind)},
                                     {"step", artifact.step},
                                     {"path", store_dir + "/" + artifact.path},
                                     {"sha256", artifact.sha256},
                                     {"width", artifact.width},
                                     {"height", artifact.height},
                                     {"bytes", artifact.bytes}});
    }
    out.push_back(std::move(object));
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace stylesweep
