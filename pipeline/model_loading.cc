#include "pipeline/model_loading.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace psg::pipeline {

absl::Status CheckModelFitsData(const models::ModelOptions& options, const data::Dataset& data) {
  engine::Dims input;
  try {
    input = models::InputDims(options.name);
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
  const data::SampleShape shape = data.sample_shape();
  const engine::Dims images = {shape.channels, shape.height, shape.width};
  const auto takes = [&](const std::string& name) {
    const engine::Dims dims = models::InputDims(name);
    return models::TakesAnyImageSize(name) ? dims[0] == images[0] && images[1] == images[2] : dims == images;
  };
  if (takes(options.name)) return absl::OkStatus();
  std::vector<std::string> fitting;
  for (const std::string& name : models::ModelNames()) {
    if (takes(name)) fitting.push_back(name);
  }
  const std::string taken = models::TakesAnyImageSize(options.name)
                                ? absl::StrCat(input[0], "-channel square images of any size")
                                : absl::StrCat(absl::StrJoin(input, "x"), " images (channels x height x width)");
  return absl::InvalidArgumentError(absl::StrCat(
      "--model=", options.name, " takes ", taken, ", but the data set's are ", absl::StrJoin(images, "x"),
      fitting.empty() ? std::string(" (no model of the zoo takes them)")
                      : absl::StrCat(" (models that take them: ", absl::StrJoin(fitting, ", "), ")")));
}

absl::StatusOr<std::unique_ptr<engine::Sequential>> LoadModel(const models::ModelOptions& options,
                                                               const std::string& checkpoint,
                                                               const train::LoadOptions& checks, uint64_t seed) {
  std::unique_ptr<engine::Sequential> model;
  try {
    model = models::BuildModel(options);
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  }
  models::InitializeParameters(*model, seed);
  if (checkpoint.empty()) return model;
  engine::ParameterList params;
  model->CollectParameters(&params);
  absl::StatusOr<train::RunPosition> loaded =
      train::LoadTrainingState(checkpoint, params, nullptr, checks);
  if (!loaded.ok()) return loaded.status();
  return model;
}

}  // namespace psg::pipeline
