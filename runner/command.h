// The registry of `stylesweep` subcommands. Each runner/cmd_*.cc file defines
// one or more commands and registers them with STYLESWEEP_COMMAND; the
// executable's main() dispatches on the first argument. Two executables hold
// the commands (docs/ARCHITECTURE.md, "Two executables, one command"): the
// `stylesweep` front (main.cc) and `stylesweep-engine` (engine_main.cc), which
// links LibTorch; runner/engine_routes.h says which command lines go where.
#pragma once

#include <iosfwd>
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

// One line of the command listing: the name padded to 12 columns, then the
// summary ("  runs        list, filter and sort runs ...").
std::string CommandListLine(const std::string& name, const std::string& summary);

// `stylesweep --help`: the usage line, one CommandListLine per command in
// the order given, and where to find each command's options.
void PrintUsage(const std::vector<Command>& commands, std::ostream& out);

// Exit codes: 0 success, 1 the work failed (a run, a file, the database),
// 2 the command line or a settings file is wrong, 75 stopped for preemption
// (SIGUSR1: requeue and run the same command again; EX_TEMPFAIL in
// sysexits.h), 69 a sweep lost workers (a node stopped answering; the jobs
// it held ran elsewhere or were left for the next start: requeue and run the
// same command again; EX_UNAVAILABLE), 130 interrupted.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPreempted = 75;
inline constexpr int kExitWorkersLost = 69;
inline constexpr int kExitInterrupted = 130;

int ExitCodeFor(const Status& status);

// Prints "stylesweep <command>: error: <status message>" to stderr and
// returns ExitCodeFor(status).
int ReportError(const std::string& command, const Status& status);

// The experiment store folder when --store is not given: $STYLESWEEP_STORE,
// else runs/ in the current folder.
std::string DefaultStoreDir();

// kInvalidArgument naming the path when `store_dir` exists but is not a
// folder (a file given as --store); Ok when it is a folder or is not there.
Status CheckStoreFolder(const std::string& store_dir);

}  // namespace stylesweep

#define STYLESWEEP_COMMAND(name, summary, fn) \
  static ::stylesweep::CommandRegistrar SS_CONCAT_(kRegistrar_, __LINE__)(name, summary, fn)
