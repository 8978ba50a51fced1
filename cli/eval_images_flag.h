// --max_eval_images: how many test images a command evaluates on, defined
// once for every command that evaluates (train, ptq, prune_sweep, logits,
// int8_eval, structured_prune).
//
//   train::Evaluate(model, *data->test, batch, absl::GetFlag(FLAGS_max_eval_images), ...);
#ifndef PSG_CLI_EVAL_IMAGES_FLAG_H_
#define PSG_CLI_EVAL_IMAGES_FLAG_H_

#include <cstdint>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(int64_t, max_eval_images);

#endif  // PSG_CLI_EVAL_IMAGES_FLAG_H_
