// The paper's signature figure: histograms of one layer's weights from
// several checkpoints (e.g. SGD and PSGD), overlaid, with the b-bit grid of
// the last checkpoint drawn as vertical lines (per tensor, symmetric
// restricted range from its max |w|, as the evaluation protocol rounds).
//
//   bazel run //experiments:weight_histogram -- --layer=layer3.2.conv2.weight --bits=4
//       --checkpoints=SGD=runs/sgd/last.safetensors,PSGD=runs/psgd/last.safetensors
//       --output_dir=runs/psgd      # writes histogram.svg there
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/common_flags.h"
#include "cli/model_loading.h"
#include "cli/output_dir_flag.h"
#include "compression/quant_grid.h"
#include "flags/list_flags.h"
#include "flags/ranges.h"
#include "io/checkpoint.h"
#include "io/files.h"
#include "report/svg_plot.h"

ABSL_FLAG(std::vector<std::string>, checkpoints, {},
          "comma-separated NAME=PATH pairs (required); the last one's grid is drawn");
ABSL_FLAG(std::string, layer, "", "tensor name, e.g. layer3.2.conv2.weight (required)");
ABSL_FLAG(int, bits, 4, "grid bit-width to draw, 2..8");
PSG_FLAG_RANGE(bits, psg::flags::Between(2, 8));
ABSL_FLAG(int, bins, 150, "histogram bins");
PSG_FLAG_RANGE(bins, psg::flags::Between(1, 100000));

namespace {

using psg::cli::Fail;
using psg::cli::UserPath;

int Run() {
  const std::string layer = absl::GetFlag(FLAGS_layer);
  const std::string output_dir = UserPath(absl::GetFlag(FLAGS_output_dir));
  const int bits = absl::GetFlag(FLAGS_bits);
  const absl::StatusOr<std::vector<psg::flags::NamedValue>> checkpoints =
      psg::flags::ParseNamedValues("checkpoints", absl::GetFlag(FLAGS_checkpoints));
  if (!checkpoints.ok()) return Fail(checkpoints.status().message());
  if (checkpoints->empty()) return Fail("--checkpoints is required");
  if (layer.empty()) return Fail("--layer is required");
  if (output_dir.empty()) return Fail("--output_dir is required");
  if (absl::Status s = psg::io::CheckWritableDirectory(output_dir); !s.ok()) return Fail(s.message());
  std::vector<psg::report::HistogramSeries> series;
  for (const psg::flags::NamedValue& name_path : *checkpoints) {
    auto checkpoint = psg::io::Checkpoint::Read(UserPath(name_path.value));
    if (!checkpoint.ok()) return Fail(checkpoint.status().message());
    if (!absl::GetFlag(FLAGS_allow_nonfinite_checkpoint)) {
      if (absl::Status s = checkpoint->CheckFinite(); !s.ok()) {
        return Fail(absl::StrCat(s.message(), ". --allow_nonfinite_checkpoint draws it anyway"));
      }
    }
    auto values = checkpoint->F32(layer);
    if (!values.ok()) {
      return Fail(absl::StrCat(values.status().message(), "; tensors of ", name_path.value, ": ",
                               absl::StrJoin(checkpoint->names(), ", ")));
    }
    series.push_back({name_path.name, std::vector<float>(values->begin(), values->end())});
  }
  const float max_abs = psg::compression::MaxAbs(series.back().values);
  const psg::compression::GridPoint grid =
      psg::compression::MakeGrid(psg::compression::GridRange::kRestricted, bits, -max_abs, max_abs);
  std::vector<double> grid_points;
  for (float level = grid.min_level; level <= grid.max_level; level += 1.0f) {
    grid_points.push_back(level * grid.step);
  }
  const std::string output = output_dir + "/histogram.svg";
  psg::report::WriteSvg(
      output, psg::report::HistogramSvg(
                  series, {.title = absl::StrCat(layer, ": weights and the ", bits, "-bit grid of ",
                                                 series.back().name),
                           .x_label = "weight",
                           .bins = absl::GetFlag(FLAGS_bins),
                           .vertical_lines = grid_points}));
  std::printf("wrote %s (%zu checkpoints, %zu grid points, step %g)\n", output.c_str(),
              series.size(), grid_points.size(), grid.step);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return psg::cli::RunCommand(
      argc, argv, "Overlaid weight histograms of one layer with a quantization grid.", Run);
}
