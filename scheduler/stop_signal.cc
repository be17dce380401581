#include "scheduler/stop_signal.h"

#include <atomic>
#include <csignal>

namespace stylesweep {

namespace {

std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal flag must be lock-free");

extern "C" void HandleStopSignal(int signal_number) { stop_signal.store(signal_number); }

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = HandleStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool StopRequested() { return stop_signal.load() != 0; }

int StopSignalNumber() { return stop_signal.load(); }

void RequestStop(int signal_number) { stop_signal.store(signal_number); }

}  // namespace stylesweep
