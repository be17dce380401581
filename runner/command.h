// The registry of `stylesweep` subcommands. Each runner/cmd_*.cc file defines
// one or more commands and registers them with STYLESWEEP_COMMAND; main()
// dispatches on the first argument.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace stylesweep {

// A subcommand's entry point: argv[0] is the subcommand's name. Returns the
// process exit code (see ExitCodeFor).
using CommandFunction = int (*)(int argc, char** argv);

struct Command {
  std::string name;     // "stylize"
  std::string summary;  // one line for `stylesweep --help`
  CommandFunction run;
};

// Every registered command, sorted by name.
std::vector<Command>& Commands();

struct CommandRegistrar {
  CommandRegistrar(const char* name, const char* summary, CommandFunction run);
};

// Exit codes: 0 success, 1 the work failed (a run, a file, the database),
// 2 the command line or a settings file is wrong, 75 stopped for preemption
// (SIGUSR1: requeue and run the same command again; EX_TEMPFAIL in
// sysexits.h), 130 interrupted.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPreempted = 75;
inline constexpr int kExitInterrupted = 130;

int ExitCodeFor(const Status& status);

// Prints "stylesweep <command>: error: <status message>" to stderr and
// returns ExitCodeFor(status).
int ReportError(const std::string& command, const Status& status);

// The experiment store folder when --store is not given: $STYLESWEEP_STORE,
// else runs/ in the current folder.
std::string DefaultStoreDir();

}  // namespace stylesweep

#define STYLESWEEP_COMMAND(name, summary, fn) \
  static ::stylesweep::CommandRegistrar SS_CONCAT_(kRegistrar_, __LINE__)(name, summary, fn)
