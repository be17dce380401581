#include "runner/engine_routes.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/mpi_launch.h"

namespace stylesweep {
namespace {

// `plan --device-memory auto` asks the CUDA runtime for the smallest GPU,
// which only the engine (LibTorch) can answer. Boost accepts any unambiguous
// prefix of a long option and the value either after '=' or as the next
// argument, so "--device-mem=auto" and "--d auto" count too.
bool AsksForDeviceMemoryAuto(int argc, char** argv) {
  static const std::string kOption = "--device-memory";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    if (name.size() < 3 || name.rfind("--", 0) != 0 || kOption.compare(0, name.size(), name) != 0) continue;
    const std::string value = equals != std::string::npos ? arg.substr(equals + 1) : (i + 1 < argc ? argv[i + 1] : "");
    if (value == "auto") return true;
  }
  return false;
}

// `sweep` runs jobs, and so needs LibTorch, everywhere except on rank 0 of a
// launch of several ranks: that rank only coordinates (and answers the
// memory check from the workers' GPUs, scheduler/sweep_run.h), so it stays
// in the front. Without a launcher, under `mpiexec -n 1`, or when the
// launcher's environment does not say the rank and size, the process may
// have to run jobs: the engine, which can also coordinate.
bool RunsSweepJobs(int, char**) { return !IsCoordinatorOfSeveralRanks(MpiLaunchFromEnvironment()); }

}  // namespace

const std::vector<EngineRoute>& EngineRoutes() {
  static const std::vector<EngineRoute> routes = {
      {"stylize", "stylise one image (Gatys et al., L-BFGS or Adam)", nullptr},
      {"sweep", nullptr, RunsSweepJobs},
      {"evaluate", "score images or stored runs on one scale (style, content, SSIM, colour)", nullptr},
      {"plan", nullptr, AsksForDeviceMemoryAuto},
  };
  return routes;
}

bool RunsInEngine(int argc, char** argv) {
  if (argc < 1) return false;
  for (const EngineRoute& route : EngineRoutes()) {
    if (route.command != std::string(argv[0])) continue;
    return route.hand_over == nullptr || route.hand_over(argc, argv);
  }
  return false;
}

std::vector<Command> AllCommands(const std::vector<Command>& front) {
  std::vector<Command> all = front;
  for (const EngineRoute& route : EngineRoutes()) {
    if (route.summary != nullptr) all.push_back({route.command, route.summary, nullptr});
  }
  std::sort(all.begin(), all.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  return all;
}

Result<std::string> EngineExecutablePath() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    return Status::NotFound(std::string("cannot find the folder of the stylesweep executable, where ") +
                            kEngineExecutableName + " is installed: /proc/self/exe: " + error.message());
  }
  return (self.parent_path() / kEngineExecutableName).string();
}

int ExecEngine(char** argv) {
  const std::string command = argv[1] != nullptr ? argv[1] : "";
  Result<std::string> path = EngineExecutablePath();
  if (!path.ok()) return ReportError(command, path.status());
  execv(path->c_str(), argv);
  const int error = errno;
  return ReportError(command,
                     Status::NotFound("cannot start the engine executable " + *path + ": " + std::strerror(error) +
                                      ". `stylesweep " + command + "` runs there because it loads LibTorch; " +
                                      kEngineExecutableName + " is built and installed beside stylesweep"));
}

}  // namespace stylesweep
