// Data-parallel gradient reduction overlapped with backward: the model's
// trainable parameters, in reverse order (the order backward finishes them),
// are grouped into buckets of about `bucket_bytes`; as soon as backward has
// finished every parameter of the next bucket (engine/backward_observer.h),
// a communication thread packs its gradients, each times this rank's share of
// the global batch, sums them over the ranks (a blocking MPI_Allreduce on a
// communicator of its own) and writes the sums back, while the main thread
// goes on with backward. End() waits for the last bucket: every rank then
// holds the gradient of the global batch's mean loss. A bucket that takes
// longer than the communicator's timeout ends the job from End().
//
// With `average_state`, the model's non-trainable state (BN running
// statistics) is averaged the same way (weighted by the shares), first, as it
// is final once forward has run: replicas that normalize with their own batch
// statistics keep identical running statistics, those of the global batch's
// mean per-replica statistics.
//
//   GradientReducer reducer(std::move(gradient_comm), model_params, {.bucket_bytes = 4 << 20});
//   each step:  forward, loss;
//               reducer.Begin(local_images / double(global_images));
//               model.Backward(dlogits);
//               reducer.End();      // gradients are the global batch's
//               optimizer.Step(lr);
#ifndef PSG_DIST_GRADIENT_REDUCER_H_
#define PSG_DIST_GRADIENT_REDUCER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dist/communicator.h"
#include "engine/backward_observer.h"
#include "engine/layer.h"
#include "engine/parameter.h"

namespace psg::dist {

struct GradientReducerOptions {
  int64_t bucket_bytes = int64_t{4} << 20;
  bool average_state = true;
};

// Where the reduction's time went, summed since construction.
struct ReductionStats {
  int64_t steps = 0;             // Begin/End pairs
  int64_t bytes_per_step = 0;    // reduced per pair (gradients and state)
  int buckets = 0;
  int64_t buckets_started_in_backward = 0;  // queued before End(): overlapped
  double allreduce_seconds = 0;  // communication thread: pack, allreduce, unpack
  double wait_seconds = 0;       // main thread in End(): communication not hidden by backward
};

class GradientReducer : public engine::BackwardObserver {
 public:
  // `comm` is used by the communication thread only. `params`: the model's
  // parameters (CollectParameters order); they must outlive the reducer.
  GradientReducer(Communicator comm, const engine::ParameterList& params,
                  const GradientReducerOptions& options);
  ~GradientReducer() override;
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before a backward pass: starts observing it. `share`: this rank's
  // images / the global batch's images (its gradients are means over its own).
  void Begin(double share);
  // After it: reduces what backward did not announce and waits for all.
  void End();

  void LayerDone(engine::Layer& layer) override;
  ReductionStats stats() const;

 private:
  // A slice of a bucket's buffer: `count` floats of one parameter's gradient
  // (or value, for state).
  struct Slot {
    engine::Parameter* param;
    bool state;
    int64_t offset;
  };
  struct Bucket {
    std::vector<Slot> slots;
    std::vector<float> buffer;
    std::string name;  // for error messages
    int waiting = 0;   // gradients backward has not finished this step
  };

  // Gradient `index` (of the reduced trainable parameters) is final.
  void MarkReady(int index);
  // Queues the buckets, in order, whose gradients are all final.
  void LaunchReady();
  void CommunicationLoop();

  Communicator comm_;
  std::vector<Bucket> buckets_;  // launch order: state first, then reverse parameter order
  // The reduced trainable parameters: index by parameter, bucket by index.
  absl::flat_hash_map<const engine::Parameter*, int> param_index_;
  std::vector<int> param_bucket_;
  // Each layer backward announced: the indices of its reduced parameters.
  absl::flat_hash_map<const engine::Layer*, std::vector<int>> layer_params_;
  std::vector<char> ready_;  // per index, this step
  int next_to_launch_ = 0;
  std::optional<engine::BackwardObserver::Observing> observing_;
  double share_ = 1.0;

  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<int> queue_;
  int done_ = 0;
  bool stopping_ = false;
  ReductionStats stats_;
  std::thread thread_;
};

}  // namespace psg::dist

#endif  // PSG_DIST_GRADIENT_REDUCER_H_
