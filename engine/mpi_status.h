// MPI return codes as a Status: the one translation the engine's MPI
// collectives and the scheduler's MPI transport share. Torch-free; defined in
// mpi_collectives.cc (stylesweep_engine_parallel).
#pragma once

#include <string>

#include <mpi.h>

#include "common/status.h"

namespace stylesweep {

// MPI_SUCCESS: Ok; otherwise kUnavailable "<operation> failed: <MPI's text>".
// A code other than MPI_SUCCESS comes back only on a communicator whose error
// handler is MPI_ERRORS_RETURN; under the default MPI_ERRORS_ARE_FATAL the
// job ends inside the failing call.
Status MpiStatus(int code, const std::string& operation);

}  // namespace stylesweep
