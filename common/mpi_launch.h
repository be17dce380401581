// Whether this process was started as an MPI rank: the commands that can run
// either way (`sweep`, `stylize --devices`) initialise MPI only then.
#pragma once

#include <cstdlib>

namespace stylesweep {

// True when this process was started by mpiexec or srun (Open MPI, PMIx or
// PMI environment variables are set).
inline bool LaunchedUnderMpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

}  // namespace stylesweep
