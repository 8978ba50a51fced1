// The evaluation-mode logits of a checkpoint on the first test images, with
// the images exactly as the model saw them (normalized, NCHW) and their
// labels, as .npy files: the toolkit's side of a side-by-side check against
// another framework (tools/torch_bridge.py logits, tools/torch_bridge_test.py).
//
//   bazel run //experiments:logits -- --checkpoint=runs/r20/last.safetensors
//       --max_eval_images=256 --output_dir=runs/r20/logits
//   -> logits.npy (N x classes, float32), images.npy (N x C x H x W), labels.npy (int32)
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "cli/common_flags.h"
#include "cli/model_loading.h"
#include "flags/ranges.h"
#include "io/files.h"
#include "pipeline/logits_dump.h"

ABSL_FLAG(std::string, checkpoint, "", "checkpoint to evaluate (required)");
ABSL_FLAG(int64_t, max_eval_images, 256, "the first N test images (0: all)");
PSG_FLAG_RANGE(max_eval_images, psg::flags::AtLeast(0));
ABSL_FLAG(std::string, output_dir, "", "where the .npy files go (default <checkpoint dir>/logits)");

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
