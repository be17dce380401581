#include "runner/command.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

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

std::string CommandListLine(const std::string& name, const std::string& summary) {
  return "  " + name + std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') + summary;
}

void PrintUsage(const std::vector<Command>& commands, std::ostream& out) {
  out << "usage: stylesweep COMMAND [OPTIONS]\n\n"
         "Gatys et al. neural style transfer as distributed sweeps with experiment tracking.\n\n"
         "commands:\n";
  for (const auto& command : commands) out << CommandListLine(command.name, command.summary) << "\n";
  out << "\n`stylesweep COMMAND --help` shows each command's options and defaults.\n";
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

Status CheckStoreFolder(const std::string& store_dir) {
  std::error_code error;
  const auto status = std::filesystem::status(store_dir, error);
  if (error || !std::filesystem::exists(status) || std::filesystem::is_directory(status)) return Status::Ok();
  return Status::InvalidArgument("--store " + store_dir + " is a file, not a store folder (a store is a folder "
                                 "holding store.db and artifacts/)");
}

}  // namespace stylesweep
