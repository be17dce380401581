// `stylesweep report`: one self-contained HTML page comparing an experiment's
// runs (store/report.h, docs/REPORTS.md).
#include <sys/stat.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/duration.h"
#include "common/text.h"
#include "runner/command.h"
#include "runner/flag_errors.h"
#include "store/report.h"
#include "store/run_store.h"
#include "store/snapshot.h"

namespace po = boost::program_options;

namespace stylesweep {
namespace {

constexpr const char* kUsage =
    "-e EXP [-o FILE] [--rows PARAM] [--cols PARAM] [--where EXPR] [--follow [--follow-every 10s]] | --runs RUN,RUN,...";


// Every comma-separated item of every --runs value, in order.
std::vector<std::string> SplitCommas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    for (std::string& item : SplitList(value)) out.push_back(std::move(item));
  }
  return out;
}

// Changes whenever the store's database does: a snapshot renamed into place
// (new inode), or a live store's database or WAL written.
std::string StoreStamp(const std::string& store_dir) {
  std::string stamp;
  for (const char* suffix : {"", "-wal"}) {
    struct stat info {};
    const std::string path = store_dir + "/" + RunStore::kDatabaseFile + suffix;
    if (stat(path.c_str(), &info) != 0) {
      stamp += "-;";
      continue;
    }
    stamp += std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) + ":" +
             std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec) + ";";
  }
  return stamp;
}

// Writes the report once and prints what it holds. Opens the store anew:
// a snapshot's database is replaced by a rename.
Status WriteOnce(const std::string& store_dir, const ReportOptions& report) {
  SS_RETURN_IF_ERROR(CheckStoreFolder(store_dir));
  StoreOptions store_options;
  store_options.mode = OpenMode::kReadOnly;
  SS_ASSIGN_OR_RETURN(std::unique_ptr<RunStore> store, RunStore::Open(store_dir, store_options));
  SS_ASSIGN_OR_RETURN(ReportSummary summary, WriteReport(store.get(), report));
  std::cout << "wrote " << summary.output_path << " (" << summary.runs << " runs, " << summary.failed << " failed, "
            << summary.thumbnails << " thumbnails, " << (summary.bytes + 512) / 1024 << " KiB";
  if (!summary.rows.empty()) std::cout << "; grid " << summary.rows << (summary.cols.empty() ? "" : " x " + summary.cols);
  std::cout << ")\n";
  for (const std::string& note : summary.notes) std::cout << "note: " << note << "\n";
  std::cout.flush();
  return Status::Ok();
}

// True when the store is a snapshot of a sweep that has ended with nothing
// left to run (queued, running or killed): following can stop.
bool SweepIsOver(const std::string& store_dir, const std::string& experiment) {
  Result<std::optional<SnapshotProgress>> progress = ReadSnapshotProgress(store_dir, experiment);
  if (!progress.ok() || !progress->has_value()) return false;
  const SnapshotProgress& p = **progress;
  return p.info.sweep_ended && p.queued + p.running + p.killed == 0;
}

// --follow: rewrites the report whenever the store changes, until the sweep
// is over (a snapshot says so) or the user interrupts. A store that is not
// there yet is waited for; a failed write (a snapshot being replaced) is
// reported once and retried at the next change.
int Follow(const std::string& store_dir, ReportOptions report, double every_seconds) {
  std::string last_stamp, last_error;
  std::cout << "following " << store_dir << ": the report is rewritten when it changes (Ctrl-C to stop)\n";
  while (true) {
    const std::string stamp = StoreStamp(store_dir);
    if (stamp != last_stamp) {
      Status written = WriteOnce(store_dir, report);
      if (written.ok()) {
        last_stamp = stamp;
        last_error.clear();
        if (SweepIsOver(store_dir, report.experiment)) {
          std::cout << "the sweep has ended with nothing left to run; stopped following\n";
          return kExitOk;
        }
      } else if (written.code() == StatusCode::kInvalidArgument) {
        return ReportError("report", written);
      } else if (written.message() != last_error) {
        last_error = written.message();
        std::cerr << "stylesweep report: " << (written.code() == StatusCode::kNotFound ? "waiting: " : "warning: ")
                  << written.message() << "\n";
      }
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(every_seconds));
  }
}

int Report(int argc, char** argv) {
  std::string store_dir;
  ReportOptions report;
  std::vector<std::string> run_texts;
  bool follow = false;
  std::string follow_every_text;
  po::options_description options("options");
  options.add_options()
      ("store", po::value<std::string>(&store_dir)->value_name("DIR")->default_value(DefaultStoreDir()),
       "store folder (default: $STYLESWEEP_STORE, else runs/)")
      ("experiment,e", po::value<std::string>(&report.experiment)->value_name("EXP"), "experiment to report on")
      ("output,o", po::value<std::string>(&report.output_path)->value_name("FILE"), "HTML file to write (default: <store>/report-<exp>.html)")
      ("rows", po::value<std::string>(&report.rows)->value_name("PARAM"), "grid row param (default: the param with the most values)")
      ("cols", po::value<std::string>(&report.cols)->value_name("PARAM"), "grid column param (default: the one with the next most values)")
      ("where", po::value<std::string>(&report.where)->value_name("FILTER"), "only runs matching this filter (docs/STORE.md)")
      ("runs", po::value<std::vector<std::string>>(&run_texts)->value_name("RUN")->multitoken()->composing(),
       "compare these runs side by side (ids or config-hash prefixes, comma separated)")
      ("max-thumbnails", po::value<int>(&report.max_thumbnails)->value_name("N")->default_value(report.max_thumbnails),
       "runs whose image is embedded; the rest link to the full-size file")
      ("follow", po::bool_switch(&follow),
       "keep the report up to date: rewrite it whenever the store (a snapshot, sweep --snapshot) changes; the page "
       "reloads itself. Stops when the sweep has ended with nothing left to run")
      ("follow-every", po::value<std::string>(&follow_every_text)->default_value("10s")->value_name("DURATION"),
       "with --follow: how often to look for a change, and how often the page reloads")
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
    return ReportFlagError("report", e, options, kUsage);
  }
  report.runs = SplitCommas(run_texts);
  if (report.runs.empty() && report.experiment.empty()) {
    // A snapshot names the sweep it was taken of.
    Result<std::optional<SnapshotInfo>> info = ReadSnapshotInfo(store_dir);
    if (info.ok() && info->has_value()) report.experiment = (*info)->experiment;
  }
  if (report.runs.empty() == report.experiment.empty()) {
    return ReportError("report", Status::InvalidArgument("give either -e EXP or --runs RUN,RUN,..."));
  }
  if (report.output_path.empty()) {
    report.output_path = DefaultReportPath(store_dir, report.runs.empty() ? report.experiment : "compare");
  }
  if (follow) {
    Result<double> every = ParseDuration(follow_every_text, "--follow-every");
    if (!every.ok()) return ReportError("report", every.status());
    report.follow_every = std::max(1, static_cast<int>(*every + 0.5));
    return Follow(store_dir, report, *every);
  }
  Status written = WriteOnce(store_dir, report);
  if (!written.ok()) return ReportError("report", written);
  return kExitOk;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("report", "write an HTML report of an experiment (-e EXP) or of runs side by side (--runs)",
                   stylesweep::Report);
