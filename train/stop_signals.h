// SIGINT (Ctrl-C) and SIGTERM as a request to stop cleanly: the first one is
// recorded, and the trainer, which polls it at every step boundary, writes a
// checkpoint and returns (the command then exits 0; --resume=auto continues
// exactly). A second one ends the process at once, by that signal, after
// removing the temporary file of any checkpoint or result being written
// (io/files.h), so an interrupted write leaves no stale file behind.
//
//   InstallStopSignalHandlers();              // in main(), before training
//   if (int signal = StopSignalReceived()) {  // 0: none yet
//     ...checkpoint, then return
//   }
#ifndef PSG_TRAIN_STOP_SIGNALS_H_
#define PSG_TRAIN_STOP_SIGNALS_H_

namespace psg::train {

void InstallStopSignalHandlers();

// The first SIGINT or SIGTERM received since the handlers were installed, or
// 0. Always 0 without InstallStopSignalHandlers().
int StopSignalReceived();

// Forgets a received signal (tests that stop several runs in one process).
void ClearStopSignal();

}  // namespace psg::train

#endif  // PSG_TRAIN_STOP_SIGNALS_H_
