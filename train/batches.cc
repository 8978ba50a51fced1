#include "train/batches.h"

namespace psg::train {

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
  engine::Tensor view;  // created once per shape, re-pointed at each batch
  int64_t seen = 0;
  while (pass.max_images == 0 || seen < pass.max_images) {
    absl::StatusOr<const data::Batch*> batch = (*loader)->Next();
    if (absl::IsOutOfRange(batch.status())) break;
    if (!batch.ok()) return batch.status();
    const data::Batch& b = **batch;
    const engine::Dims dims = {b.n, b.c, b.h, b.w};
    if (view.empty() || view.dims() != dims) view = engine::Tensor::View(nullptr, dims);
    view.memory().set_data_handle(const_cast<float*>(b.images.data()));
    visit(view, b);
    seen += b.n;
  }
  return absl::OkStatus();
}

}  // namespace psg::train
