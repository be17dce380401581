#include "runner/flag_errors.h"

#include <algorithm>
#include <iostream>
#include <vector>

#include "common/text.h"
#include "runner/command.h"

namespace stylesweep {

namespace po = boost::program_options;

namespace {

// The known flag closest to `typed` ("--stroe" -> "--store"), or "" when
// none is within a third of its length (at least 2 edits).
std::string NearestFlag(const std::string& typed, const po::options_description& options) {
  std::vector<std::string> flags;
  for (const auto& option : options.options()) {
    if (!option->long_name().empty()) flags.push_back("--" + option->long_name());
  }
  const std::string nearest = ClosestWord(typed, flags);
  if (nearest.empty()) return "";
  const size_t allowed = std::max<size_t>(2, typed.size() / 3);
  return EditDistance(typed, nearest) <= allowed ? nearest : "";
}

}  // namespace

std::string FlagErrorMessage(const po::error& error, const po::options_description& options) {
  std::string message = error.what();
  if (const auto* unknown = dynamic_cast<const po::unknown_option*>(&error)) {
    const std::string nearest = NearestFlag(unknown->get_option_name(), options);
    if (!nearest.empty()) message += " (did you mean " + nearest + "?)";
  }
  return message;
}

int ReportFlagError(const std::string& command, const po::error& error, const po::options_description& options,
                    const std::string& usage) {
  std::cerr << "stylesweep " << command << ": error: " << FlagErrorMessage(error, options) << "\n";
  if (usage.empty()) std::cerr << "(see stylesweep " << command << " --help)\n";
  else std::cerr << "usage: stylesweep " << command << " " << usage << "\n";
  return kExitUsage;
}

}  // namespace stylesweep
