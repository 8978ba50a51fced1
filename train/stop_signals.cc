#include "train/stop_signals.h"

#include <signal.h>

#include <atomic>

#include "io/files.h"

namespace psg::train {
namespace {

std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free);

// Async-signal-safe only: atomics, unlink (inside RemoveTemporaryFilesInProgress),
// signal and raise.
void OnStopSignal(int signal_number) {
  int expected = 0;
  if (received.compare_exchange_strong(expected, signal_number)) return;  // the first: stop at the next step
  io::RemoveTemporaryFilesInProgress();
  signal(signal_number, SIG_DFL);
  raise(signal_number);
}

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in progress go on
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int StopSignalReceived() { return received.load(); }

void ClearStopSignal() { received.store(0); }

}  // namespace psg::train
