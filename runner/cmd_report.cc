// `stylesweep report`: one self-contained HTML page comparing an experiment's
// runs (store/report.h, docs/REPORTS.md).
#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "common/text.h"
#include "runner/command.h"
#include "store/report.h"
#include "store/run_store.h"

namespace po = boost::program_options;

namespace stylesweep {
namespace {

constexpr const char* kUsage = "-e EXP [-o FILE] [--rows PARAM] [--cols PARAM] [--where EXPR] | --runs RUN,RUN,...";


// Every comma-separated item of every --runs value, in order.
std::vector<std::string> SplitCommas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    for (std::string& item : SplitList(value)) out.push_back(std::move(item));
  }
  return out;
}

int Report(int argc, char** argv) {
  std::string store_dir;
  ReportOptions report;
  std::vector<std::string> run_texts;
  po::options_description options("options");
  options.add_options()
      ("store", po::value<std::string>(&store_dir)->default_value(DefaultStoreDir()),
       "store folder (default: $STYLESWEEP_STORE, else runs/)")
      ("experiment,e", po::value<std::string>(&report.experiment), "experiment to report on")
      ("output,o", po::value<std::string>(&report.output_path), "HTML file to write (default: <store>/report-<exp>.html)")
      ("rows", po::value<std::string>(&report.rows), "grid row param (default: the param with the most values)")
      ("cols", po::value<std::string>(&report.cols), "grid column param (default: the one with the next most values)")
      ("where", po::value<std::string>(&report.where), "only runs matching this filter (docs/STORE.md)")
      ("runs", po::value<std::vector<std::string>>(&run_texts)->multitoken()->composing(),
       "compare these runs side by side (ids or config-hash prefixes, comma separated)")
      ("max-thumbnails", po::value<int>(&report.max_thumbnails)->default_value(report.max_thumbnails),
       "runs whose image is embedded; the rest link to the full-size file")
      ("help,h", "show this help");
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), values);
    if (values.count("help")) {
      std::cout << "usage: stylesweep report " << kUsage << "\n\n" << options;
      return kExitOk;
    }
    po::notify(values);
  } catch (const po::error& e) {
    std::cerr << "stylesweep report: " << e.what() << "\nusage: stylesweep report " << kUsage << "\n";
    return kExitUsage;
  }
  report.runs = SplitCommas(run_texts);
  if (report.runs.empty() == report.experiment.empty()) {
    return ReportError("report", Status::InvalidArgument("give either -e EXP or --runs RUN,RUN,..."));
  }
  if (report.output_path.empty()) {
    report.output_path = DefaultReportPath(store_dir, report.runs.empty() ? report.experiment : "compare");
  }
  StoreOptions store_options;
  store_options.mode = OpenMode::kReadOnly;
  auto store = RunStore::Open(store_dir, store_options);
  if (!store.ok()) return ReportError("report", store.status());
  auto summary = WriteReport(store->get(), report);
  if (!summary.ok()) return ReportError("report", summary.status());
  std::cout << "wrote " << summary->output_path << " (" << summary->runs << " runs, " << summary->failed << " failed, "
            << summary->thumbnails << " thumbnails, " << (summary->bytes + 512) / 1024 << " KiB";
  if (!summary->rows.empty()) std::cout << "; grid " << summary->rows << (summary->cols.empty() ? "" : " x " + summary->cols);
  std::cout << ")\n";
  for (const std::string& note : summary->notes) std::cout << "note: " << note << "\n";
  return kExitOk;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("report", "write an HTML report of an experiment (-e EXP) or of runs side by side (--runs)",
                   stylesweep::Report);
