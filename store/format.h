// Turning runs into what `stylesweep experiments/runs/show/compare/export`
// print: aligned terminal tables, RFC 4180 CSV and JSON. Pure functions of
// their inputs; no database access.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/run_types.h"

namespace stylesweep {

enum class OutputFormat { kTable, kCsv, kJson };
// "table", "csv" or "json"; kInvalidArgument otherwise.
Result<OutputFormat> ParseOutputFormat(const std::string& text);

// One cell: text, or a number (printed readably in tables, exactly in CSV;
// in JSON a whole number is an integer, store/json_output.h), or an integer
// that tables print in full too (ids, eval/judge_id, counts, steps), or a
// list-valued param (its text in tables and CSV, an array in JSON). None: a
// missing value ("-" in tables, empty in CSV, null in JSON).
struct Cell {
  std::string text;
  std::optional<double> number;
  bool missing = false;
  std::optional<ParamValue> list;  // set for a list-valued param; `text` is then its ToText
  bool integer = false;            // `number` is an id or a count: never rounded to 4 significant digits

  static Cell Text(std::string text) { return Cell{std::move(text), std::nullopt, false, std::nullopt}; }
  static Cell Number(double value) { return Cell{"", value, false, std::nullopt}; }
  static Cell Integer(double value) { return Cell{"", value, false, std::nullopt, true}; }
  static Cell Missing() { return Cell{"", std::nullopt, true, std::nullopt}; }
  static Cell List(ParamValue value) {
    std::string text = value.ToText();
    return Cell{std::move(text), std::nullopt, false, std::move(value)};
  }
};

// True for a metric whose value names something rather than measures it
// (its key ends in "_id", as eval/judge_id): a table prints it in full.
bool IsIdentifierMetric(const std::string& key);
// A metric's value as a cell: Integer for IsIdentifierMetric keys, else Number.
Cell MetricCell(const std::string& key, double value);

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;  // each as long as header
};

// Numbers for people: whole numbers below 1e6 as integers, others to 4
// significant digits ("0.001235", "1.235e+06"): a float32 loss above 2^24 is
// always whole, and prints like its neighbours, not as 27374586.
std::string FormatNumber(double value);
// Numbers for machines: whole numbers below 1e15 as integers ("1000"),
// others the shortest text that reads back as the same double ("0.001",
// "1e-05"); "nan", "inf", "-inf". Also the store's text of a number param.
std::string FormatNumberExact(double value);
// Seconds as "0.4s", "12.3s", "4m05s", "2h03m".
std::string FormatDuration(double seconds);

// Columns left-aligned, numbers right-aligned, a header and a rule; cells
// wider than `max_cell_width` are cut with "...". Numbers as FormatNumber,
// Integer cells in full.
std::string RenderTable(const Table& table, size_t max_cell_width = 40);
std::string RenderCsv(const Table& table);
// An array of objects keyed by the header.
std::string RenderJson(const Table& table);
std::string Render(const Table& table, OutputFormat format);

// The value of `column` for `run`: a run attribute ("id", "status",
// "duration"...), "params.KEY" or "metrics.KEY". Missing if absent.
Cell RunCell(const RunRecord& run, const std::string& column);

// `stylesweep runs --columns`: kInvalidArgument naming the first column that
// is neither a run attribute (query::RunAttributeNames) nor "params.KEY" or
// "metrics.KEY" of the keys given, with the closest known column; else Ok.
Status CheckRunColumns(const std::vector<std::string>& columns, const std::vector<std::string>& param_keys,
                       const std::vector<std::string>& metric_keys);

// The default columns of `stylesweep runs`: id, experiment, status, attempts,
// duration, the params whose values differ between `runs` (all params when
// there is one run), then every latest metric.
std::vector<std::string> DefaultRunColumns(const std::vector<RunRecord>& runs);

Table RunsTable(const std::vector<RunRecord>& runs, const std::vector<std::string>& columns);
Table ExperimentsTable(const std::vector<Experiment>& experiments);

// `stylesweep show`: attributes, params, latest metrics, timings, artifacts
// (with paths under `store_dir`).
std::string RenderRunDetails(const RunRecord& run, const std::string& store_dir);

// `stylesweep compare`: one column per run; the params that differ (or
// every param with `all_params`), then the latest metrics side by side.
Table CompareTable(const std::vector<RunRecord>& runs, bool all_params = false);

// `stylesweep export`: one row per run with every attribute, param, latest
// metric, timing and artifact path (artifact paths under `store_dir`).
// Runs need GetRun's timings and artifacts.
Table ExportTable(const std::vector<RunRecord>& runs, const std::string& store_dir);
// Nested JSON: one object per run with params, metrics, timings, artifacts;
// what a run lacks (host, rank, device and times before it started, an
// error when it did not fail) is null, as the CSV leaves it empty.
std::string ExportJson(const std::vector<RunRecord>& runs, const std::string& store_dir);

}  // namespace stylesweep
