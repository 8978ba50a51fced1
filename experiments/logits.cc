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
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "experiments/common_flags.h"
#include "experiments/model_loading.h"
#include "train/batches.h"

ABSL_FLAG(std::string, checkpoint, "", "checkpoint to evaluate (required)");
ABSL_FLAG(int64_t, max_eval_images, 256, "the first N test images (0: all)");
ABSL_FLAG(std::string, output_dir, "", "where the .npy files go (default <checkpoint dir>/logits)");

namespace {

using psg::experiments::Fail;

// NumPy's .npy format, version 1.0: magic, header length, a Python dict
// literal padded with spaces to a multiple of 64 bytes, then the raw data.
template <class T>
absl::Status WriteNpy(const std::string& path, const char* descr, const std::vector<int64_t>& shape,
                      const std::vector<T>& values) {
  std::string dict = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (",
                                  absl::StrJoin(shape, ", "), shape.size() == 1 ? ",), }" : "), }");
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::ofstream out(path, std::ios::binary);
  const uint16_t header_length = static_cast<uint16_t>(dict.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&header_length), 2);  // little-endian host
  out << dict;
  out.write(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

int Run() {
  absl::StatusOr<std::string> checkpoint = psg::experiments::ExistingCheckpoint(absl::GetFlag(FLAGS_checkpoint));
  if (!checkpoint.ok()) return Fail(checkpoint.status().message());
  psg::experiments::SetUpThreads();
  auto data = psg::experiments::LoadDataFromFlags();
  if (!data.ok()) return Fail(data.status().message());
  auto options = psg::experiments::ModelOptionsFromFlags((*data)->num_classes);
  if (!options.ok()) return Fail(options.status().message());
  auto model = psg::experiments::LoadModel(*options, *checkpoint);
  if (!model.ok()) return Fail(model.status().message());

  const int64_t limit = absl::GetFlag(FLAGS_max_eval_images);
  std::vector<float> logits, images;
  std::vector<int32_t> labels;
  std::vector<int64_t> image_shape;
  int64_t classes = 0;
  const absl::Status pass = psg::train::ForEachBatch(
      *(*data)->test, {.batch_size = absl::GetFlag(FLAGS_batch_size), .max_images = limit},
      [&](const psg::engine::Tensor& x, const psg::data::Batch& batch) {
        const std::vector<float> y = (*model)->Forward(x, psg::engine::Mode::kEval).ToPlain();
        classes = static_cast<int64_t>(y.size()) / batch.n;
        image_shape = {batch.c, batch.h, batch.w};
        logits.insert(logits.end(), y.begin(), y.end());
        images.insert(images.end(), batch.images.begin(), batch.images.end());
        labels.insert(labels.end(), batch.labels.begin(), batch.labels.end());
      });
  if (!pass.ok()) return Fail(pass.message());
  // Whole batches were run; keep exactly the images asked for.
  const int64_t n = limit > 0 ? std::min<int64_t>(limit, labels.size()) : labels.size();
  const int64_t image_size = image_shape[0] * image_shape[1] * image_shape[2];
  logits.resize(n * classes);
  images.resize(n * image_size);
  labels.resize(n);

  const std::string dir = psg::experiments::OutputDirFor(absl::GetFlag(FLAGS_output_dir), *checkpoint, "logits");
  if (absl::Status s = psg::experiments::WriteResultFiles(dir, {}); !s.ok()) return Fail(s.message());
  for (const absl::Status& s :
       {WriteNpy(dir + "/logits.npy", "<f4", {n, classes}, logits),
        WriteNpy(dir + "/images.npy", "<f4", {n, image_shape[0], image_shape[1], image_shape[2]}, images),
        WriteNpy(dir + "/labels.npy", "<i4", {n}, labels)}) {
    if (!s.ok()) return Fail(s.message());
  }
  std::printf("wrote %s/{logits,images,labels}.npy (%lld images, %lld classes)\n", dir.c_str(),
              static_cast<long long>(n), static_cast<long long>(classes));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::experiments::RunCommand(
      argc, argv, "Logits of a checkpoint on the first test images, as .npy files.", Run);
}
