// stylesweep-engine: the commands that optimise and so load LibTorch
// (stylize, evaluate, plan --device-memory auto, and sweep on every rank
// that runs jobs; a sweep's coordinator over several ranks stays in the front). Users type `stylesweep`; its
// front executable (main.cc) replaces itself with this one for those command
// lines, with the same argv (runner/engine_routes.h).
#include <iostream>
#include <string>

#include "engine/host_allocator.h"
#include "runner/command.h"
#include "runner/engine_routes.h"
#include "runner/sweep_command.h"
#include "scheduler/sweep_workers.h"

namespace stylesweep {

// The engine runs a sweep's jobs: alone, or as its worker ranks.
SweepWorkerSide* SweepWorkersOfThisExecutable() {
  static EngineSweepWorkers workers;
  return &workers;
}

}  // namespace stylesweep

int main(int argc, char** argv) {
  // Before any thread or tensor: large CPU tensors reused rather than mapped
  // and unmapped per allocation (engine/host_allocator.h).
  stylesweep::ConfigureHostAllocator();
  const std::string name = argc < 2 ? "" : argv[1];
  if (name.empty() || name == "--help" || name == "-h" || name == "help") {
    std::ostream& out = name.empty() ? std::cerr : std::cout;
    out << "usage: stylesweep COMMAND [OPTIONS]\n\n"
        << stylesweep::kEngineExecutableName
        << " runs the stylesweep commands that load LibTorch; `stylesweep` starts it for them:\n";
    for (const auto& command : stylesweep::Commands()) {
      out << stylesweep::CommandListLine(command.name, command.summary) << "\n";
    }
    out << "\n`stylesweep --help` lists every command.\n";
    return name.empty() ? stylesweep::kExitUsage : stylesweep::kExitOk;
  }
  if (name == "--version") {
    std::cout << "stylesweep " << STYLESWEEP_VERSION << "\n";
    return stylesweep::kExitOk;
  }
  for (const auto& command : stylesweep::Commands()) {
    if (command.name == name) return command.run(argc - 1, argv + 1);
  }
  std::cerr << stylesweep::kEngineExecutableName << ": '" << name
            << "' is not one of its commands; run it as `stylesweep " << name << "`\n";
  return stylesweep::kExitUsage;
}
