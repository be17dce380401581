// The one difference `stylesweep sweep` (cmd_sweep.cc, built into both
// executables) has between them: who runs the jobs (docs/ARCHITECTURE.md,
// "Two executables, one command").
#pragma once

#include "scheduler/sweep_run.h"

namespace stylesweep {

// The worker side RunSweepRequest gets in this executable. Defined by each
// executable's main file: `stylesweep-engine` (engine_main.cc) returns its
// EngineSweepWorkers (scheduler/sweep_workers.h); the front (main.cc)
// returns null, since it keeps `sweep` only as rank 0 of several MPI ranks,
// which coordinates and runs no job (runner/engine_routes.cc).
SweepWorkerSide* SweepWorkersOfThisExecutable();

}  // namespace stylesweep
