// The evaluation-mode logits of a checkpoint on the first test images, with
// the images exactly as the model saw them (normalized, NCHW) and their
// labels, as .npy files: the toolkit's side of a side-by-side check against
// another framework (tools/torch_bridge.py logits, tools/torch_bridge_test.py).
//
//   bazel run //experiments:logits -- --checkpoint=runs/r20/last.safetensors
//       --max_eval_images=256 --output_dir=runs/r20/logits
//   -> logits.npy (N x classes, float32), images.npy (N x C x H x W), labels.npy (int32)
//
// Default output_dir: <checkpoint dir>/logits. --max_eval_images is shared
// with the other commands (cli/eval_images_flag.h), so its default is all test
// images (it was 256 here before the flags were defined once).
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "cli/checkpoint_flag.h"
#include "cli/common_flags.h"
#include "cli/eval_images_flag.h"
#include "cli/model_loading.h"
#include "cli/output_dir_flag.h"
#include "flags/ranges.h"
#include "io/files.h"
#include "pipeline/logits_dump.h"

namespace {

using psg::cli::Fail;

int Run() {
  absl::StatusOr<std::string> checkpoint = psg::cli::ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
  if (!checkpoint.ok()) return Fail(checkpoint.status().message());
  const std::string dir = psg::cli::OutputDirFor(absl::GetFlag(FLAGS_output_dir), *checkpoint, "logits");
  if (absl::Status s = psg::io::CheckWritableDirectory(dir); !s.ok()) return Fail(s.message());
  psg::cli::SetUpThreads();
  auto data = psg::cli::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto options = psg::cli::ModelOptionsFromFlags(**data);
  if (!options.ok()) return Fail(options.status().message());
  auto model = psg::cli::LoadModel(*options, *checkpoint);
  if (!model.ok()) return Fail(model.status().message());

  absl::StatusOr<psg::pipeline::LogitsDump> dump = psg::pipeline::WriteLogitsNpy(
      **model, *(*data)->test,
      {.batch_size = absl::GetFlag(FLAGS_batch_size), .max_images = absl::GetFlag(FLAGS_max_eval_images)}, dir);
  if (!dump.ok()) return Fail(dump.status().message());
  std::printf("wrote %s/{logits,images,labels}.npy (%lld images, %lld classes)\n", dir.c_str(),
              static_cast<long long>(dump->images), static_cast<long long>(dump->classes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(
      argc, argv, "Logits of a checkpoint on the first test images, as .npy files.", Run);
}
