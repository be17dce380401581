// MPI return codes as a Status: the one translation the engine's MPI
// collectives and the scheduler's MPI transport share. Torch-free and
// header-only, so the sweep's coordinator (which links MPI, not the engine)
// uses it too.
#pragma once

#include <cstddef>
#include <string>

#include <mpi.h>

#include "common/status.h"

namespace stylesweep {

// MPI_SUCCESS: Ok; otherwise kUnavailable "<operation> failed: <MPI's text>".
// A code other than MPI_SUCCESS comes back only on a communicator whose error
// handler is MPI_ERRORS_RETURN; under the default MPI_ERRORS_ARE_FATAL the
// job ends inside the failing call.
inline Status MpiStatus(int code, const std::string& operation) {
  if (code == MPI_SUCCESS) return Status::Ok();
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  return Status::Unavailable(operation + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

}  // namespace stylesweep
