#include "train/batches.h"

#include "absl/strings/str_cat.h"

namespace psg::train {

const engine::Tensor& BatchView::View(const data::Batch& batch) {
  const engine::Dims dims = {batch.n, batch.c, batch.h, batch.w};
  if (tensor_.empty() || tensor_.dims() != dims) tensor_ = engine::Tensor::View(nullptr, dims);
  tensor_.memory().set_data_handle(const_cast<float*>(batch.images.data()));
  return tensor_;
}

absl::Status ForEachBatch(
    const data::Dataset& dataset, const BatchPass& pass,
    const std::function<void(const engine::Tensor& images, const data::Batch& batch)>& visit) {
  data::LoaderOptions lo;
  lo.batch_size = pass.batch_size;
  lo.shuffle = false;
  lo.num_workers = pass.workers;
  lo.end_epoch = 1;
  absl::StatusOr<std::unique_ptr<data::BatchLoader>> loader = data::BatchLoader::Create(dataset, lo);
  if (!loader.ok()) return loader.status();
  BatchView view;
  int64_t seen = 0;
  while (pass.max_images == 0 || seen < pass.max_images) {
    absl::StatusOr<const data::Batch*> batch = (*loader)->Next();
    if (absl::IsOutOfRange(batch.status())) break;
    if (!batch.ok()) return batch.status();
    const data::Batch& b = **batch;
    visit(view.View(b), b);
    seen += b.n;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> FirstFullBatch(const data::Dataset& dataset, int batch_size,
                                                  int workers) {
  std::vector<float> images;
  absl::Status status = ForEachBatch(dataset, {batch_size, batch_size, workers},
                                     [&](const engine::Tensor&, const data::Batch& b) {
                                       if (b.n == batch_size) images = b.images;
                                     });
  if (!status.ok()) return status;
  if (images.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no full batch of ", batch_size,
                                                   " images to time: the data set has ",
                                                   dataset.size()));
  }
  return images;
}

}  // namespace psg::train
