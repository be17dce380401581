// Which command lines the `stylesweep` front executable hands to the engine
// executable, `stylesweep-engine`, the one program that links LibTorch.
//
// The front (runner/main.cc) runs the commands that only read files and the
// store: `--help`, experiments/runs/show/compare/export, plan, report, merge,
// slurm, and a sweep's coordinator (rank 0 of several MPI ranks). It starts
// in milliseconds because it maps no LibTorch. A command that optimises is
// listed in EngineRoutes(); for it the front replaces itself with the engine
// (execv, same argv and environment) before anything else happens, so
// `mpiexec -n N stylesweep sweep ...` and srun start the engine on every
// rank that runs jobs without knowing of it.
//
// To route a new command that needs LibTorch: add its row here (engine_routes.cc)
// and its cmd_*.cc to the `stylesweep-engine` sources in runner/CMakeLists.txt.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "runner/command.h"

namespace stylesweep {

// The engine executable's file name; it is built and installed beside `stylesweep`.
inline constexpr const char* kEngineExecutableName = "stylesweep-engine";

struct EngineRoute {
  const char* command;  // "stylize"
  // The line `stylesweep --help` shows for it; nullptr when the front also
  // runs the command (and registers it with its own summary).
  const char* summary;
  // For a command the front also runs: true for the command lines only the
  // engine can answer (argv[0] is the command's name). nullptr: every
  // command line goes to the engine.
  bool (*hand_over)(int argc, char** argv);
};

// Every routed command, in the order of the table.
const std::vector<EngineRoute>& EngineRoutes();

// True when the command line `argv` (argv[0]: the command's name, as a
// CommandFunction receives it) runs in the engine executable.
bool RunsInEngine(int argc, char** argv);

// The commands `stylesweep --help` lists: `front` (the front's registered
// commands) and the engine-only routes, sorted by name.
std::vector<Command> AllCommands(const std::vector<Command>& front);

// The engine executable: kEngineExecutableName in the folder of this
// process's own executable (/proc/self/exe). kNotFound naming the folder when
// /proc/self/exe cannot be read.
Result<std::string> EngineExecutablePath();

// Replaces this process with the engine executable: execv with `argv` (the
// whole command line, argv[0] the program) and the same environment. Returns
// only when that fails: it reports where the engine was looked for and why
// it did not start, and returns kExitFailure. Call it before MPI_Init or any
// thread starts.
int ExecEngine(char** argv);

}  // namespace stylesweep
