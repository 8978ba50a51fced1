// --checkpoint: the checkpoint a command reads (ptq, prune_sweep, logits,
// int8_eval, structured_prune, export_onnx), defined once for all of them.
// Check it with ExistingCheckpoint (cli/common_flags.h):
//
//   absl::StatusOr<std::string> path = ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
#ifndef PSG_CLI_CHECKPOINT_FLAG_H_
#define PSG_CLI_CHECKPOINT_FLAG_H_

#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, checkpoint);

#endif  // PSG_CLI_CHECKPOINT_FLAG_H_
