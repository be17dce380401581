// SIGINT / SIGTERM as a stop request: the handler only sets an atomic flag;
// the coordinator and the workers poll it between events and once per
// optimiser iteration, then stop cleanly (runs recorded KILLED, exit 130).
#pragma once

namespace stylesweep {

// Installs the handlers for SIGINT and SIGTERM (process-wide; call once,
// from the main thread, before starting work).
void InstallStopSignalHandlers();

// True once SIGINT or SIGTERM arrived. Async-signal-safe, lock-free.
bool StopRequested();

// The signal that asked to stop (SIGINT, SIGTERM), or 0.
int StopSignalNumber();

// Sets the flag as a signal would (tests).
void RequestStop(int signal_number);

}  // namespace stylesweep
