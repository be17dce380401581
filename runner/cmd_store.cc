// `stylesweep experiments | runs | show | compare | export`: read-only
// commands over an experiment store (store/run_store.h).
#include <boost/program_options.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "runner/command.h"
#include "runner/flag_errors.h"
#include "store/dataset_export.h"
#include "store/format.h"
#include "store/pareto.h"
#include "store/run_store.h"
#include "store/snapshot.h"

namespace po = boost::program_options;

namespace stylesweep {
namespace {


void AddStoreOption(po::options_description* options, std::string* store_dir) {
  options->add_options()("store", po::value<std::string>(store_dir)->value_name("DIR")->default_value(DefaultStoreDir()),
                         "store folder (default: $STYLESWEEP_STORE, else runs/)")("help,h", "show this help");
}

// Parses argv into `options`; returns an exit code when the command should
// stop (help shown or a usage error), else -1.
int ParseFlags(const std::string& name, const std::string& usage, int argc, char** argv,
               const po::options_description& options, const po::positional_options_description* positional) {
  po::variables_map values;
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(options);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), values);
    if (values.count("help")) {
      std::cout << "usage: stylesweep " << name << " " << usage << "\n\n" << options;
      return kExitOk;
    }
    po::notify(values);
  } catch (const po::error& e) {
    return ReportFlagError(name, e, options, usage);
  }
  return -1;
}

Result<std::unique_ptr<RunStore>> OpenForReading(const std::string& dir) {
  SS_RETURN_IF_ERROR(CheckStoreFolder(dir));
  StoreOptions options;
  options.mode = OpenMode::kReadOnly;
  return RunStore::Open(dir, options);
}

int Experiments(int argc, char** argv) {
  std::string store_dir, format_text;
  po::options_description options("options");
  AddStoreOption(&options, &store_dir);
  options.add_options()("format", po::value<std::string>(&format_text)->value_name("table|csv|json")->default_value("table"), "table, csv or json");
  if (int code = ParseFlags("experiments", "[--store DIR] [--format F]", argc, argv, options, nullptr); code >= 0) return code;
  auto format = ParseOutputFormat(format_text);
  if (!format.ok()) return ReportError("experiments", format.status());
  auto store = OpenForReading(store_dir);
  if (!store.ok()) return ReportError("experiments", store.status());
  auto experiments = (*store)->ListExperiments();
  if (!experiments.ok()) return ReportError("experiments", experiments.status());
  std::cout << Render(ExperimentsTable(*experiments), *format);
  return kExitOk;
}

std::vector<std::string> SplitColumns(const std::vector<std::string>& values) {
  std::vector<std::string> columns;
  for (const std::string& value : values) {
    size_t start = 0;
    while (start <= value.size()) {
      const size_t comma = value.find(',', start);
      const std::string column = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!column.empty()) columns.push_back(column);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return columns;
}

// On a snapshot (store/snapshot.h): one line with when it was taken and the
// sweep's progress. Nothing on a live store; a damaged snapshot_info is a
// warning on stderr, the runs are still listed.
void PrintSnapshotProgress(const std::string& store_dir, const std::string& experiment, std::ostream& out) {
  auto progress = ReadSnapshotProgress(store_dir, experiment);
  if (!progress.ok()) {
    std::cerr << "stylesweep runs: warning: " << progress.status().message() << "\n";
    return;
  }
  if (!progress->has_value()) return;
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  out << SnapshotProgressLine(**progress, now) << "\n";
}

// The --columns of `runs` against the params and metrics in the store.
Status CheckColumns(RunStore& store, const std::string& experiment, const std::vector<std::string>& columns) {
  SS_ASSIGN_OR_RETURN(std::vector<std::string> params, store.ParamKeys(experiment));
  SS_ASSIGN_OR_RETURN(std::vector<std::string> metrics, store.MetricKeys(experiment));
  return CheckRunColumns(columns, params, metrics);
}

int Runs(int argc, char** argv) {
  std::string store_dir, format_text, pareto;
  RunQuery query;
  std::vector<std::string> columns, sort;
  po::options_description options("options");
  AddStoreOption(&options, &store_dir);
  options.add_options()
      ("experiment,e", po::value<std::string>(&query.experiment)->value_name("EXP"), "only runs of this experiment")
      ("where", po::value<std::string>(&query.where)->value_name("FILTER"),
       "filter, e.g. \"params.style_weight > 100 and status = 'finished'\" (docs/STORE.md)")
      ("sort", po::value<std::vector<std::string>>(&sort)->value_name("KEY[:desc]")->composing(), "KEY[:desc]; repeat for ties")
      ("columns", po::value<std::vector<std::string>>(&columns)->value_name("KEY")->multitoken()->composing(),
       "keys to show (comma or space separated); default: attributes, params that differ, metrics")
      ("limit", po::value<int64_t>(&query.limit)->value_name("N")->default_value(0), "at most N runs (0: all)")
      ("pareto", po::value<std::string>(&pareto)->value_name("KEY,KEY"),
       "only the runs no other listed run beats on all of these metrics, e.g. "
       "eval/style_distance,eval/content_distance (minimised; KEY:max to maximise)")
      ("format", po::value<std::string>(&format_text)->value_name("table|csv|json")->default_value("table"), "table, csv or json");
  if (int code = ParseFlags("runs", "[-e EXP] [--where EXPR] [--sort KEY[:desc]] [--pareto K,K] [--columns ...] [--limit N] [--format F]",
                            argc, argv, options, nullptr);
      code >= 0) {
    return code;
  }
  query.sort = SplitColumns(sort);
  auto format = ParseOutputFormat(format_text);
  if (!format.ok()) return ReportError("runs", format.status());
  auto store = OpenForReading(store_dir);
  if (!store.ok()) return ReportError("runs", store.status());
  std::vector<ParetoObjective> objectives;
  if (!pareto.empty()) {
    auto parsed = ParseParetoObjectives(pareto);
    if (!parsed.ok()) return ReportError("runs", parsed.status());
    objectives = std::move(parsed).value();
    if (query.limit > 0) {
      return ReportError("runs", Status::InvalidArgument("--limit and --pareto do not combine: the front is taken "
                                                         "over every run the filter lists"));
    }
  }
  auto runs = (*store)->ListRuns(query);
  if (!runs.ok()) return ReportError("runs", runs.status());
  // Runs ranked or filtered by the judge's scores must all carry one judge's.
  bool uses_scores = !objectives.empty() || query.where.find("eval/") != std::string::npos;
  for (const std::string& key : query.sort) uses_scores |= key.find("eval/") != std::string::npos;
  if (uses_scores) {
    if (Status judges = CheckOneJudge(*runs); !judges.ok()) return ReportError("runs", judges);
  }
  if (!objectives.empty()) {
    std::vector<RunRecord> front;
    for (std::size_t index : ParetoFront(*runs, objectives)) front.push_back((*runs)[index]);
    *runs = std::move(front);
  }
  std::vector<std::string> shown = SplitColumns(columns);
  if (shown.empty()) shown = DefaultRunColumns(*runs);
  else if (Status known = CheckColumns(**store, query.experiment, shown); !known.ok()) return ReportError("runs", known);
  PrintSnapshotProgress(store_dir, query.experiment, *format == OutputFormat::kTable ? std::cout : std::cerr);
  std::cout << Render(RunsTable(*runs, shown), *format);
  if (*format == OutputFormat::kTable) std::cout << runs->size() << " run" << (runs->size() == 1 ? "" : "s") << "\n";
  return kExitOk;
}

Result<RunRecord> LoadRun(RunStore* store, const std::string& text) {
  SS_ASSIGN_OR_RETURN(int64_t id, store->ResolveRunId(text));
  return store->GetRun(id);
}

int Show(int argc, char** argv) {
  std::string store_dir, run_text;
  po::options_description options("options");
  AddStoreOption(&options, &store_dir);
  options.add_options()("run", po::value<std::string>(&run_text)->value_name("RUN"), "run id or config hash prefix");
  po::positional_options_description positional;
  positional.add("run", 1);
  if (int code = ParseFlags("show", "RUN [--store DIR]", argc, argv, options, &positional); code >= 0) return code;
  if (run_text.empty()) {
    return ReportError("show", Status::InvalidArgument("give a run id or config hash prefix: stylesweep show RUN"));
  }
  auto store = OpenForReading(store_dir);
  if (!store.ok()) return ReportError("show", store.status());
  auto run = LoadRun(store->get(), run_text);
  if (!run.ok()) return ReportError("show", run.status());
  std::cout << RenderRunDetails(*run, store_dir);
  return kExitOk;
}

int Compare(int argc, char** argv) {
  std::string store_dir, format_text;
  std::vector<std::string> run_texts;
  bool all_params = false;
  po::options_description options("options");
  AddStoreOption(&options, &store_dir);
  options.add_options()
      ("runs", po::value<std::vector<std::string>>(&run_texts)->value_name("RUN"), "run ids or config hash prefixes")
      ("all-params", po::bool_switch(&all_params), "show params that are equal too")
      ("format", po::value<std::string>(&format_text)->value_name("table|csv|json")->default_value("table"), "table, csv or json");
  po::positional_options_description positional;
  positional.add("runs", -1);
  if (int code = ParseFlags("compare", "RUN RUN... [--store DIR] [--all-params] [--format F]", argc, argv, options, &positional);
      code >= 0) {
    return code;
  }
  if (run_texts.size() < 2) {
    return ReportError("compare", Status::InvalidArgument("compare needs at least two runs: stylesweep compare RUN RUN..."));
  }
  auto format = ParseOutputFormat(format_text);
  if (!format.ok()) return ReportError("compare", format.status());
  auto store = OpenForReading(store_dir);
  if (!store.ok()) return ReportError("compare", store.status());
  std::vector<RunRecord> runs;
  for (const std::string& text : run_texts) {
    auto run = LoadRun(store->get(), text);
    if (!run.ok()) return ReportError("compare", run.status());
    runs.push_back(std::move(run).value());
  }
  std::cout << Render(CompareTable(runs, all_params), *format);
  return kExitOk;
}

// `export --format folder|webdataset -o DIR`: the dataset rebuilt from the store.
int ExportDatasetCommand(const std::string& store_dir, const DatasetExportOptions& options) {
  auto store = OpenForReading(store_dir);
  if (!store.ok()) return ReportError("export", store.status());
  Result<DatasetExportSummary> summary = ExportDataset(**store, options);
  if (!summary.ok()) return ReportError("export", summary.status());
  std::cout << summary->samples << " sample" << (summary->samples == 1 ? "" : "s") << " written to "
            << options.output_dir;
  if (options.format == "webdataset") std::cout << " in " << summary->shards << " new shard(s)";
  if (summary->no_image > 0) std::cout << "; " << summary->no_image << " finished run(s) had no final image";
  std::cout << "\n";
  return kExitOk;
}

int Export(int argc, char** argv) {
  std::string store_dir, format_text;
  RunQuery query;
  DatasetExportOptions dataset;
  po::options_description options("options");
  AddStoreOption(&options, &store_dir);
  options.add_options()
      ("experiment,e", po::value<std::string>(&query.experiment)->value_name("EXP")->required(), "experiment to export")
      ("where", po::value<std::string>(&query.where)->value_name("FILTER"), "filter (as for `runs`; csv and json only)")
      ("format", po::value<std::string>(&format_text)->value_name("csv|json|folder|webdataset")->default_value("csv"),
       "csv or json (runs to stdout), or folder or webdataset (finished runs' final images to -o DIR)")
      ("output,o", po::value<std::string>(&dataset.output_dir)->value_name("DIR"), "folder for folder/webdataset")
      ("shard-size", po::value<int>(&dataset.shard_size)->value_name("N")->default_value(1000), "webdataset: samples per shard");
  if (int code = ParseFlags("export", "-e EXP [--format csv|json] [--where EXPR] | --format folder|webdataset -o DIR",
                            argc, argv, options, nullptr);
      code >= 0) {
    return code;
  }
  if (format_text == "folder" || format_text == "webdataset") {
    if (!query.where.empty()) {
      return ReportError("export", Status::InvalidArgument("--where applies to csv and json exports only"));
    }
    dataset.experiment = query.experiment;
    dataset.format = format_text;
    return ExportDatasetCommand(store_dir, dataset);
  }
  auto format = ParseOutputFormat(format_text);
  if (!format.ok() || *format == OutputFormat::kTable) {
    return ReportError("export", Status::InvalidArgument("--format must be csv, json, folder or webdataset, not '" +
                                                         format_text + "'" +
                                                         (format.ok() ? " (use `runs` for a table)" : "")));
  }
  auto store = OpenForReading(store_dir);
  if (!store.ok()) return ReportError("export", store.status());
  auto listed = (*store)->ListRuns(query);
  if (!listed.ok()) return ReportError("export", listed.status());
  std::vector<RunRecord> runs;
  for (const RunRecord& summary : *listed) {
    auto run = (*store)->GetRun(summary.id);
    if (!run.ok()) return ReportError("export", run.status());
    runs.push_back(std::move(run).value());
  }
  std::cout << (*format == OutputFormat::kJson ? ExportJson(runs, store_dir) : RenderCsv(ExportTable(runs, store_dir)));
  return kExitOk;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("experiments", "list experiments with run counts by status", stylesweep::Experiments);
STYLESWEEP_COMMAND("runs", "list, filter and sort runs (--where \"params.x > 1\")", stylesweep::Runs);
STYLESWEEP_COMMAND("show", "show one run: params, metrics, timings, artifacts", stylesweep::Show);
STYLESWEEP_COMMAND("compare", "compare runs side by side", stylesweep::Compare);
STYLESWEEP_COMMAND("export", "export an experiment's runs as csv or json, or its images as a dataset (folder, webdataset)", stylesweep::Export);
