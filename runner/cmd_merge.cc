// `stylesweep merge STORE... -o STORE`: joins the stores of a sweep's shares
// (or of any sweeps) into one; store/merge.h has the rules.
#include <iostream>

#include <boost/program_options.hpp>

#include "runner/command.h"
#include "runner/flag_errors.h"
#include "store/merge.h"

namespace stylesweep {
namespace {

namespace po = boost::program_options;

int RunMergeCommand(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::string output;
  po::options_description visible("merge options");
  visible.add_options()
      ("help,h", "show this help")
      ("output,o", po::value(&output)->value_name("STORE"), "the store to merge into (created if missing)");
  po::options_description hidden;
  hidden.add_options()("input", po::value(&inputs)->composing());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    return ReportFlagError("merge", error, visible, "STORE... -o STORE");
  }
  if (vm.count("help")) {
    std::cout << "usage: stylesweep merge STORE... -o STORE\n\n"
                 "Joins stores, e.g. the shares of a Slurm job array (runs-share-*), into one. Runs are\n"
                 "matched by experiment name and job key: a job present twice is kept once, the better\n"
                 "state winning (FINISHED > FAILED > KILLED > RUNNING > QUEUED). Artifact files are\n"
                 "copied and checked against their sha256. Merging into an existing store adds to it.\n\n"
              << visible;
    return kExitOk;
  }
  if (output.empty()) return ReportError("merge", Status::InvalidArgument("give the output store: -o STORE"));
  if (inputs.empty()) return ReportError("merge", Status::InvalidArgument("give the stores to merge: stylesweep merge A B -o OUT"));
  Result<MergeSummary> summary = MergeStores(inputs, output);
  if (!summary.ok()) return ReportError("merge", summary.status());
  for (const std::string& warning : summary->warnings) std::cerr << "stylesweep merge: warning: " << warning << "\n";
  std::cout << "merged " << summary->inputs << " store(s) into " << output << ": " << summary->runs_added
            << " runs added, " << summary->runs_replaced << " replaced by a better state, " << summary->duplicates_skipped
            << " duplicates skipped, " << summary->runs_kept << " kept as they were; " << summary->experiments_created
            << " experiment(s) created, " << summary->artifacts_copied << " artifact file(s) copied\n";
  return kExitOk;
}

}  // namespace
}  // namespace stylesweep

STYLESWEEP_COMMAND("merge", "join stores (the shares of a job array) into one, one run per job", stylesweep::RunMergeCommand);
