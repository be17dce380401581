// What a command prints when Boost.Program_options refuses its command line,
// the same for every command.
#pragma once

#include <string>

#include <boost/program_options.hpp>

namespace stylesweep {

// The refusal's text, with the nearest known flag of `options` when the
// flag is unknown and close to one: "unrecognised option '--stroe' (did you
// mean --store?)".
std::string FlagErrorMessage(const boost::program_options::error& error,
                             const boost::program_options::options_description& options);

// Prints "stylesweep COMMAND: error: <FlagErrorMessage>" and then
// "usage: stylesweep COMMAND USAGE", or, with an empty `usage`, where the
// help is, to stderr. Returns kExitUsage.
int ReportFlagError(const std::string& command, const boost::program_options::error& error,
                    const boost::program_options::options_description& options, const std::string& usage = "");

}  // namespace stylesweep
