// Command-line parsing shared by the commands that take a sweep file and
// overrides as positional arguments (`plan`, `sweep`).
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace stylesweep {

// Parses argv into `visible` (the command's flags) plus the positional
// SWEEP.yaml (`file`) and key=values overrides (`overrides`), filling `vm`.
// Returns -1 to go on; otherwise the exit code to return now: kExitUsage
// after printing the parse error for `command`.
int ParseSweepCommandLine(const std::string& command, int argc, char** argv,
                          const boost::program_options::options_description& visible, std::string* file,
                          std::vector<std::string>* overrides, boost::program_options::variables_map* vm);

}  // namespace stylesweep
