#include "dist/gradient_reducer.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace psg::dist {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

GradientReducer::GradientReducer(Communicator comm, const engine::ParameterList& params,
                                 const GradientReducerOptions& options)
    : comm_(std::move(comm)) {
  const auto add = [&](engine::Parameter* p, bool state) {
    Bucket& bucket = buckets_.back();
    bucket.slots.push_back({p, state, static_cast<int64_t>(bucket.buffer.size())});
    bucket.buffer.resize(bucket.buffer.size() + p->value.flat().size());
    if (!state) {
      param_index_[p] = static_cast<int>(param_bucket_.size());
      param_bucket_.push_back(static_cast<int>(buckets_.size()) - 1);
    }
  };
  if (options.average_state) {
    for (engine::Parameter* p : params) {
      if (p->trainable()) continue;
      if (buckets_.empty()) buckets_.emplace_back();
      add(p, /*state=*/true);
    }
  }
  const size_t first_gradient_bucket = buckets_.size();
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    engine::Parameter* p = *it;
    if (!p->trainable()) continue;
    const int64_t bytes = static_cast<int64_t>(p->value.flat().size() * sizeof(float));
    if (buckets_.size() == first_gradient_bucket ||
        (!buckets_.back().buffer.empty() &&
         static_cast<int64_t>(buckets_.back().buffer.size() * sizeof(float)) + bytes >
             options.bucket_bytes)) {
      buckets_.emplace_back();
    }
    add(p, /*state=*/false);
  }
  stats_.buckets = static_cast<int>(buckets_.size());
  for (size_t i = 0; i < buckets_.size(); ++i) {
    Bucket& b = buckets_[i];
    stats_.bytes_per_step += static_cast<int64_t>(b.buffer.size() * sizeof(float));
    b.name = absl::StrCat("gradient bucket ", i, " (", b.slots.front().param->name,
                          b.slots.size() > 1 ? absl::StrCat(" and ", b.slots.size() - 1, " more") : "",
                          ")");
  }
  thread_ = std::thread([this] { CommunicationLoop(); });
}

GradientReducer::~GradientReducer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

void GradientReducer::Begin(double share) {
  share_ = share;
  next_to_launch_ = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = 0;
  }
  for (Bucket& b : buckets_) {
    b.waiting = 0;
    for (const Slot& s : b.slots) b.waiting += s.state ? 0 : 1;
  }
  ready_.assign(param_bucket_.size(), 0);
  observing_.emplace(this);
  LaunchReady();  // the state, final since forward
}

void GradientReducer::LayerDone(engine::Layer& layer) {
  auto [it, inserted] = layer_params_.try_emplace(&layer);
  if (inserted) {  // first sight of this layer: which reduced parameters are its
    engine::ParameterList own;
    layer.CollectParameters(&own);
    for (engine::Parameter* p : own) {
      if (auto found = param_index_.find(p); found != param_index_.end()) {
        it->second.push_back(found->second);
      }
    }
  }
  for (int index : it->second) MarkReady(index);
  LaunchReady();
}

void GradientReducer::End() {
  observing_.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.buckets_started_in_backward += next_to_launch_;
  }
  // Parameters backward did not announce (e.g. of the model's root layer).
  for (int index = 0; index < static_cast<int>(ready_.size()); ++index) MarkReady(index);
  LaunchReady();
  const Clock::time_point start = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  if (!done_cv_.wait_for(lock, std::chrono::duration<double>(comm_.timeout_seconds()),
                         [&] { return done_ == static_cast<int>(buckets_.size()); })) {
    comm_.Abort(absl::StrCat(buckets_[done_].name, " got no answer from the other ranks in ",
                             comm_.timeout_seconds(),
                             " s: a rank has died, hangs or runs far behind (--dist_timeout); "
                             "ending the job"));
  }
  stats_.wait_seconds += Since(start);
  ++stats_.steps;
}

ReductionStats GradientReducer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void GradientReducer::MarkReady(int index) {
  if (ready_[index]) return;
  ready_[index] = 1;
  --buckets_[param_bucket_[index]].waiting;
}

void GradientReducer::LaunchReady() {
  int first = next_to_launch_;
  while (next_to_launch_ < static_cast<int>(buckets_.size()) &&
         buckets_[next_to_launch_].waiting == 0) {
    ++next_to_launch_;
  }
  if (first == next_to_launch_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int b = first; b < next_to_launch_; ++b) queue_.push_back(b);
  }
  work_cv_.notify_one();
}

void GradientReducer::CommunicationLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const int index = queue_.front();
    queue_.pop_front();
    const float share = static_cast<float>(share_);
    lock.unlock();

    const Clock::time_point start = Clock::now();
    Bucket& bucket = buckets_[index];
    for (const Slot& s : bucket.slots) {
      const absl::Span<const float> from = s.state ? s.param->value.flat() : s.param->grad.flat();
      float* to = bucket.buffer.data() + s.offset;
      for (size_t i = 0; i < from.size(); ++i) to[i] = share * from[i];
    }
    comm_.BlockingSumInPlace(absl::MakeSpan(bucket.buffer), bucket.name);
    for (const Slot& s : bucket.slots) {
      const absl::Span<float> to = s.state ? s.param->value.flat() : s.param->grad.flat();
      const float* from = bucket.buffer.data() + s.offset;
      std::copy(from, from + to.size(), to.data());
    }
    const double seconds = Since(start);

    lock.lock();
    stats_.allreduce_seconds += seconds;
    ++done_;
    done_cv_.notify_one();
  }
}

}  // namespace psg::dist
