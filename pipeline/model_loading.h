// Building a zoo model and loading a checkpoint's parameters into it, after
// checking that the model takes the data's images. The checks on the
// checkpoint (its recorded model, finite values) are the caller's
// (cli/model_loading.h makes them from the flags).
//
//   absl::Status fits = CheckModelFitsData({.name = "resnet20"}, *data->test);
//   auto model = LoadModel({.name = "resnet20", .num_classes = 10}, "run/last.safetensors",
//                          {.model = "resnet20"});
#ifndef PSG_PIPELINE_MODEL_LOADING_H_
#define PSG_PIPELINE_MODEL_LOADING_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset.h"
#include "engine/sequential.h"
#include "models/zoo.h"
#include "train/training_state.h"

namespace psg::pipeline {

// InvalidArgument naming both shapes and the models that fit when `data`'s
// images are not an input the model `options.name` takes: its InputDims, or
// square images of any size with those channels for models::TakesAnyImageSize
// (e.g. resnet20 on Fashion-MNIST used to fail at the first forward pass with
// "Conv2d 'conv1': expected 3 input channels"; resnet18 on CIFAR is fine).
absl::Status CheckModelFitsData(const models::ModelOptions& options, const data::Dataset& data);

// The model, initialized with `seed`, then (unless `checkpoint` is empty)
// every parameter read from the checkpoint (train/training_state.h) under
// `checks`.
absl::StatusOr<std::unique_ptr<engine::Sequential>> LoadModel(const models::ModelOptions& options,
                                                               const std::string& checkpoint,
                                                               const train::LoadOptions& checks,
                                                               uint64_t seed = 1);

}  // namespace psg::pipeline

#endif  // PSG_PIPELINE_MODEL_LOADING_H_
