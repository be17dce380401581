#include "runner/sweep_command_line.h"

#include "runner/command.h"
#include "runner/flag_errors.h"

namespace stylesweep {

namespace po = boost::program_options;

int ParseSweepCommandLine(const std::string& command, int argc, char** argv, const po::options_description& visible,
                          std::string* file, std::vector<std::string>* overrides, po::variables_map* vm) {
  po::options_description hidden;
  hidden.add_options()("file", po::value(file))("override", po::value(overrides)->composing());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("file", 1).add("override", -1);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), *vm);
    po::notify(*vm);
  } catch (const po::error& error) {
    return ReportFlagError(command, error, visible);
  }
  return -1;
}

}  // namespace stylesweep
