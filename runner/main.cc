// stylesweep: neural style transfer sweeps. `stylesweep COMMAND --help` for each command.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "engine/host_allocator.h"
#include "runner/command.h"

namespace stylesweep {

std::vector<Command>& Commands() {
  static std::vector<Command> commands;
  return commands;
}

CommandRegistrar::CommandRegistrar(const char* name, const char* summary, CommandFunction run) {
  auto& all = Commands();
  all.push_back({name, summary, run});
  std::sort(all.begin(), all.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument: return kExitUsage;
    case StatusCode::kCancelled: return kExitInterrupted;
    default: return kExitFailure;
  }
}

int ReportError(const std::string& command, const Status& status) {
  std::cerr << "stylesweep " << command << ": error: " << status.message() << "\n";
  return ExitCodeFor(status);
}

std::string DefaultStoreDir() {
  if (const char* env = std::getenv("STYLESWEEP_STORE"); env != nullptr && *env != '\0') return env;
  return "runs";
}

}  // namespace stylesweep

namespace {

void PrintUsage(std::ostream& out) {
  out << "usage: stylesweep COMMAND [OPTIONS]\n\n"
         "Gatys et al. neural style transfer as distributed sweeps with experiment tracking.\n\n"
         "commands:\n";
  for (const auto& command : stylesweep::Commands()) {
    out << "  " << command.name << std::string(command.name.size() < 12 ? 12 - command.name.size() : 1, ' ')
        << command.summary << "\n";
  }
  out << "\n`stylesweep COMMAND --help` shows each command's options and defaults.\n";
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread or tensor: large CPU tensors reused rather than mapped
  // and unmapped per allocation (engine/host_allocator.h).
  stylesweep::ConfigureHostAllocator();
  if (argc < 2) {
    PrintUsage(std::cerr);
    return stylesweep::kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(std::cout);
    return stylesweep::kExitOk;
  }
  if (name == "--version") {
    std::cout << "stylesweep " << STYLESWEEP_VERSION << "\n";
    return stylesweep::kExitOk;
  }
  for (const auto& command : stylesweep::Commands()) {
    if (command.name == name) return command.run(argc - 1, argv + 1);
  }
  std::cerr << "stylesweep: unknown command '" << name << "'\n\n";
  PrintUsage(std::cerr);
  return stylesweep::kExitUsage;
}
