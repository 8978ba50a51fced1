#include "train/gradient_pass.h"

#include "data/dataset.h"
#include "engine/loss.h"
#include "engine/parameter.h"
#include "engine/parameter_snapshot.h"
#include "train/batches.h"

namespace psg::train {

GradientPass TrainingGradients(engine::Layer& model, const data::TrainingData& data, int batch_size) {
  const data::Dataset* images = data.train_unaugmented ? data.train_unaugmented.get() : data.train.get();
  return [&model, images, batch_size](int64_t batches,
                                      const std::function<void()>& after_backward) -> absl::StatusOr<int64_t> {
    engine::ParameterList params;
    model.CollectParameters(&params);
    engine::ParameterList state;
    for (engine::Parameter* p : params) {
      if (!p->trainable()) state.push_back(p);
    }
    const engine::WeightSnapshot running_statistics(state);
    engine::SoftmaxCrossEntropy loss({});
    int64_t done = 0;
    absl::Status status = ForEachBatch(
        *images, {.batch_size = batch_size, .max_images = batches * batch_size},
        [&](const engine::Tensor& x, const data::Batch& b) {
          if (done >= batches) return;
          loss.Forward(model.Forward(x, engine::Mode::kTrain), b.labels);
          model.Backward(loss.Backward());
          after_backward();
          ++done;
        });
    running_statistics.Restore();
    if (!status.ok()) return status;
    return done;
  };
}

}  // namespace psg::train
