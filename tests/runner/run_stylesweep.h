// Runs the real `stylesweep` binary (STYLESWEEP_BIN) for the runner's tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

namespace stylesweep::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `program ARGS` through the shell with `environment` ("NAME=value ...",
// set for that program only) before it; arguments are single-quoted.
inline CommandResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                                const std::string& environment = "") {
  std::string command = environment + " '" + program + "'";
  for (const auto& arg : args) command += " '" + arg + "'";
  command += " 2>&1";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs `stylesweep ARGS` through the shell; arguments are single-quoted.
inline CommandResult RunStylesweep(const std::vector<std::string>& args) { return RunProgram(STYLESWEEP_BIN, args); }

}  // namespace stylesweep::testing
