// L0-regularized training (prune/l0.h) wired into the trainer: the gates
// sampled around every training step and fixed for evaluation, their
// log_alpha checkpointed with the run, and the learned sparsity as a table.
//
//   std::unique_ptr<prune::L0Gates> gates = ...;  // cli/prune_flags.h MakeL0Gates
//   AttachL0Gates(gates.get(), *optimizer, &trainer);
//   ... trainer.Run(...);
//   std::printf("%s", L0Summary(*gates).c_str());
#ifndef PSG_PIPELINE_L0_TRAINING_H_
#define PSG_PIPELINE_L0_TRAINING_H_

#include <string>

#include "engine/optimizer.h"
#include "prune/l0.h"
#include "train/trainer.h"

namespace psg::pipeline {

// Runs `gates` around the trainer's steps (sampled gates for the step
// optimizer.steps()) and evaluations (the deterministic gates), and
// checkpoints their log_alpha; nothing for null. `gates` and `optimizer`
// must outlive the trainer's run.
void AttachL0Gates(prune::L0Gates* gates, const engine::Optimizer& optimizer, train::Trainer* trainer);

// The covered sparsity by the evaluation gates: a Markdown table, one row per
// covered tensor and a total, and the expected L0 (several lines).
std::string L0Summary(const prune::L0Gates& gates);

}  // namespace psg::pipeline

#endif  // PSG_PIPELINE_L0_TRAINING_H_
