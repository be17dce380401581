#include "scheduler/stop_signal.h"

#include <atomic>
#include <csignal>

namespace stylesweep {

namespace {

std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal flag must be lock-free");

// Keeps the first signal: a SIGTERM that follows a SIGUSR1 (Slurm ends a
// requeued job's steps with SIGTERM) must not turn a preemption into a plain
// interruption.
void RecordStop(int signal_number) {
  int expected = 0;
  stop_signal.compare_exchange_strong(expected, signal_number);
}

extern "C" void HandleStopSignal(int signal_number) { RecordStop(signal_number); }

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = HandleStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

bool StopRequested() { return stop_signal.load() != 0; }

int StopSignalNumber() { return stop_signal.load(); }

bool StopIsPreemption() { return stop_signal.load() == SIGUSR1; }

void RequestStop(int signal_number) { RecordStop(signal_number); }

void ClearStopRequest() { stop_signal.store(0); }

}  // namespace stylesweep
