// stylesweep: neural style transfer sweeps. `stylesweep COMMAND --help` for each command.
//
// The front executable: it links no LibTorch, runs the commands that read
// files and the store itself, and rank 0 of a sweep over several MPI ranks
// (the coordinator), and hands the command lines listed in
// runner/engine_routes.h to `stylesweep-engine` (docs/ARCHITECTURE.md, "Two
// executables, one command").
#include <iostream>
#include <string>

#include "runner/command.h"
#include "runner/engine_routes.h"
#include "runner/sweep_command.h"

namespace stylesweep {

// The front runs `sweep` only as the coordinator: no jobs here.
SweepWorkerSide* SweepWorkersOfThisExecutable() { return nullptr; }

}  // namespace stylesweep

int main(int argc, char** argv) {
  const std::vector<stylesweep::Command> all = stylesweep::AllCommands(stylesweep::Commands());
  if (argc < 2) {
    stylesweep::PrintUsage(all, std::cerr);
    return stylesweep::kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    stylesweep::PrintUsage(all, std::cout);
    return stylesweep::kExitOk;
  }
  if (name == "--version") {
    std::cout << "stylesweep " << STYLESWEEP_VERSION << "\n";
    return stylesweep::kExitOk;
  }
  if (stylesweep::RunsInEngine(argc - 1, argv + 1)) return stylesweep::ExecEngine(argv);
  for (const auto& command : stylesweep::Commands()) {
    if (command.name == name) return command.run(argc - 1, argv + 1);
  }
  std::cerr << "stylesweep: unknown command '" << name << "'\n\n";
  stylesweep::PrintUsage(all, std::cerr);
  return stylesweep::kExitUsage;
}
