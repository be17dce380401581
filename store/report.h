// Reports: one self-contained HTML page that compares the runs of an
// experiment at a glance (image grid by two sweep axes, loss curves, a
// sortable runs table, parallel coordinates, timings, failed runs), or a
// chosen set of runs side by side.
//
// The page opens from disk with no network: CSS and JavaScript are inline
// (store/report_template.html, embedded at build time), the data is one JSON
// blob in the page, thumbnails are embedded as JPEG data URIs, and links to
// full-size artifacts are relative to the report's folder.
//
// Library stylesweep_report (store/CMakeLists.txt) reads the store through
// run_store.h and makes thumbnails with engine/image_io.h (torch-free); the
// store library itself knows nothing of images. docs/REPORTS.md has the
// limits and how the page behaves past them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/run_store.h"

namespace stylesweep {

struct ReportOptions {
  std::string experiment;              // runs of this experiment (required unless `runs` is set)
  std::string where;                   // filter on the experiment's runs (docs/STORE.md); empty: all
  std::vector<std::string> runs;       // ids or config-hash prefixes: compare these side by side instead
  std::string rows;                    // grid row param; empty: the varying param with the most values
  std::string cols;                    // grid column param; empty: the one with the next most values
  std::string output_path;             // where the HTML goes; its folder anchors the artifact links
  int thumbnail_px = 192;              // longest side of grid and compare thumbnails, px (default 192)
  int source_thumbnail_px = 160;       // longest side of content and style thumbnails, px (default 160)
  int thumbnail_quality = 82;          // JPEG quality of thumbnails, 1-100 (default 82)
  int max_thumbnails = 400;            // runs whose result is embedded as a thumbnail; the rest link only (default 400)
  int max_curve_points = 200;          // points kept per loss curve, first and last included (default 200)
  int64_t max_total_curve_points = 200000;  // over all curves; fewer points per curve past it (default 200,000)
  int max_table_rows = 2000;           // rows the runs table renders before a "show all" button (default 2,000)
  int follow_every = 0;                // s between reloads of the page (report --follow-every); 0: it never reloads (default)
  // Param keys that hold the content and style image paths (first present wins).
  std::vector<std::string> content_keys = {"content_path", "content", "content_image"};
  std::vector<std::string> style_keys = {"style_paths", "style", "style_path", "style_image"};
};

// What a report contained, for the CLI to print.
struct ReportSummary {
  std::string output_path;
  int64_t runs = 0;              // runs in the report
  int64_t failed = 0;            // FAILED or KILLED runs
  int64_t thumbnails = 0;        // embedded run thumbnails
  int64_t bytes = 0;             // size of the HTML file
  std::string rows, cols;        // grid axes used (empty: no grid)
  std::vector<std::string> notes;  // limits that applied ("curves downsampled to 120 points")
};

// Builds the report from `store` and writes it atomically to
// options.output_path (required). Errors: kInvalidArgument for bad options
// (unknown --rows/--cols param, naming the params that vary; bad filter),
// kNotFound (experiment or run), kIoError (cannot write the file). Missing or
// unreadable artifact and source images are not errors: the page shows a
// placeholder and says why.
Result<ReportSummary> WriteReport(RunStore* store, const ReportOptions& options);

// The HTML page for already-built report data (a JSON object, see
// docs/REPORTS.md): the template with the data embedded safely (every '<' in
// the JSON escaped, so no text in the data can close the script element).
std::string RenderReportHtml(const std::string& data_json);

// <store>/report-<experiment>.html: the default output path.
std::string DefaultReportPath(const std::string& store_dir, const std::string& experiment);

// The grid's axes: among params with at least two distinct values, the one
// with the most values is the rows and the next the columns; ties go to the
// params the sweep file lists under `parameters:` (in file order), then by
// name. A param that splits the runs exactly like a chosen axis (content_weight
// following alpha_beta) is skipped. `rows`/`cols` force an axis; an unknown or
// constant one is kInvalidArgument listing the params that vary. Empty
// strings when fewer params vary.
struct GridAxes {
  std::string rows, cols;
};
Result<GridAxes> ChooseGridAxes(const std::vector<RunRecord>& runs, const std::vector<std::string>& swept_order,
                                const std::string& rows, const std::string& cols);

// The keys listed under `parameters:` in a sweep file's text, in file order;
// empty if the text does not parse.
std::vector<std::string> SweptParamKeys(const std::string& sweep_text);

// Indices of at most `max_points` points of a curve of `size` points: the
// first and the last, the rest spaced evenly in log(step) so that the fast
// early descent keeps its detail. Sorted, unique.
std::vector<size_t> DownsampleIndices(const std::vector<int64_t>& steps, size_t max_points);

}  // namespace stylesweep
