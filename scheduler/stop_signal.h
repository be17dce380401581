// SIGINT, SIGTERM and SIGUSR1 as a stop request: the handler only sets an
// atomic flag; the coordinator and the workers poll it between events and
// once per optimiser iteration, then stop cleanly (runs recorded KILLED).
//
// SIGUSR1 is the batch system's "you are about to be preempted or reach your
// time limit" (Slurm's `--signal=B:USR1@120`, forwarded by the batch script):
// the sweep stops exactly as for SIGTERM, and StopIsPreemption() tells the
// command to exit with the code that asks its batch script to requeue.
#pragma once

namespace stylesweep {

// Installs the handlers for SIGINT, SIGTERM and SIGUSR1 (process-wide; call
// once, from the main thread, before starting work).
void InstallStopSignalHandlers();

// True once SIGINT, SIGTERM or SIGUSR1 arrived. Async-signal-safe, lock-free.
bool StopRequested();

// The first signal that asked to stop (SIGINT, SIGTERM, SIGUSR1), or 0. A
// later signal does not replace it.
int StopSignalNumber();

// True when the stop came from SIGUSR1: the work is to be resumed in a later
// allocation rather than abandoned.
bool StopIsPreemption();

// Sets the flag as a signal would (tests).
void RequestStop(int signal_number);

// Clears the flag, so that a later stop is recorded afresh: for tests that
// share one process, and for a process that runs a second sweep after a
// stopped one. Not async-signal-safe with respect to ordering: a signal that
// arrives during the call may be lost.
void ClearStopRequest();

}  // namespace stylesweep
