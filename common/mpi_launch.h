// Whether and where this process was started as an MPI rank, from the
// launcher's environment before MPI_Init: the commands that can run either
// way (`sweep`, `stylize --devices`) initialise MPI only under a launcher,
// and the front executable keeps rank 0 of a multi-rank sweep
// (runner/engine_routes.h) while the other ranks go to the engine.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <initializer_list>

namespace stylesweep {

// Reads one environment variable: ProcessEnvironment, or a fake in tests.
using EnvironmentLookup = const char* (*)(const char* name);

// This process's environment (std::getenv).
inline const char* ProcessEnvironment(const char* name) { return std::getenv(name); }

// True when this process was started by mpiexec or srun (Open MPI, PMIx or
// PMI environment variables are set).
inline bool LaunchedUnderMpi(EnvironmentLookup lookup = ProcessEnvironment) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (lookup(name) != nullptr) return true;
  }
  return false;
}

// This process's place in its launch, as the launcher's environment says it
// before MPI_Init. Under mpiexec (Open MPI: OMPI_COMM_WORLD_RANK/SIZE; MPICH
// and other PMI launchers: PMI_RANK/PMI_SIZE) and under srun (PMIX_RANK or
// PMI_RANK, the step's task count SLURM_STEP_NUM_TASKS or SLURM_NTASKS, the
// rank SLURM_PROCID). The MPI launcher's own variables come first: mpiexec
// inside a batch script inherits the script's SLURM_PROCID 0. Slurm's
// variables count only under an MPI launcher (a batch script that runs the
// program without srun has SLURM_PROCID and SLURM_NTASKS too).
struct MpiLaunch {
  bool under_mpi = false;  // LaunchedUnderMpi()
  int rank = -1;           // the world rank; -1: not under MPI, or not said
  int size = -1;           // ranks in the launch; -1: not under MPI, or not said
};

namespace mpi_launch_internal {

// The first of `names` set to a whole number >= 0, or -1.
template <std::size_t N>
int FirstNumber(EnvironmentLookup lookup, const char* const (&names)[N]) {
  for (const char* name : names) {
    const char* value = lookup(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    const long number = std::strtol(value, &end, 10);
    if (*end == '\0' && number >= 0 && number <= 1 << 30) return static_cast<int>(number);
  }
  return -1;
}

}  // namespace mpi_launch_internal

inline MpiLaunch MpiLaunchFromEnvironment(EnvironmentLookup lookup = ProcessEnvironment) {
  static const char* const kRanks[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
  static const char* const kSizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"};
  MpiLaunch launch;
  launch.under_mpi = LaunchedUnderMpi(lookup);
  if (!launch.under_mpi) return launch;
  launch.rank = mpi_launch_internal::FirstNumber(lookup, kRanks);
  launch.size = mpi_launch_internal::FirstNumber(lookup, kSizes);
  return launch;
}

// True when the environment says this process is rank 0 of a launch of two
// or more ranks: a sweep's coordinator, which runs no job. False when it
// says otherwise or does not say (then the process may have to run jobs).
inline bool IsCoordinatorOfSeveralRanks(const MpiLaunch& launch) {
  return launch.under_mpi && launch.rank == 0 && launch.size > 1;
}

}  // namespace stylesweep
