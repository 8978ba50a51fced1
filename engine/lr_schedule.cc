#include "engine/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/check.h"

namespace psg::engine {
namespace {

class MultiStepSchedule : public LrSchedule {
 public:
  MultiStepSchedule(float base, std::vector<int64_t> milestones, float gamma)
      : base_(base), milestones_(std::move(milestones)), gamma_(gamma) {}
  float At(int64_t step) const override {
    float lr = base_;
    for (int64_t m : milestones_) {
      if (step >= m) lr *= gamma_;
    }
    return lr;
  }

 private:
  float base_;
  std::vector<int64_t> milestones_;
  float gamma_;
};

class CosineSchedule : public LrSchedule {
 public:
  CosineSchedule(float base, int64_t total, float min_lr) : base_(base), total_(total), min_(min_lr) {}
  float At(int64_t step) const override {
    const double t = std::min<double>(static_cast<double>(step) / total_, 1.0);
    return static_cast<float>(min_ + (base_ - min_) * 0.5 * (1.0 + std::cos(M_PI * t)));
  }

 private:
  float base_;
  int64_t total_;
  float min_;
};

class ConstantSchedule : public LrSchedule {
 public:
  explicit ConstantSchedule(float value) : value_(value) {}
  float At(int64_t) const override { return value_; }

 private:
  float value_;
};

class WarmupSchedule : public LrSchedule {
 public:
  WarmupSchedule(std::unique_ptr<LrSchedule> inner, int64_t warmup, float start_factor)
      : inner_(std::move(inner)), warmup_(warmup), start_(start_factor) {}
  float At(int64_t step) const override {
    if (step >= warmup_) return inner_->At(step - warmup_);
    const float peak = inner_->At(0);
    const float t = static_cast<float>(step) / warmup_;
    return peak * (start_ + (1.0f - start_) * t);
  }

 private:
  std::unique_ptr<LrSchedule> inner_;
  int64_t warmup_;
  float start_;
};

}  // namespace

std::unique_ptr<LrSchedule> MultiStep(float base, std::vector<int64_t> milestones, float gamma) {
  PSG_CHECK(base >= 0 && gamma > 0, "multi-step schedule: need lr >= 0 and gamma > 0");
  PSG_CHECK(std::is_sorted(milestones.begin(), milestones.end()),
            "multi-step schedule: milestones must be increasing");
  return std::make_unique<MultiStepSchedule>(base, std::move(milestones), gamma);
}

std::unique_ptr<LrSchedule> Cosine(float base, int64_t total_steps, float min_lr) {
  PSG_CHECK(total_steps > 0 && base >= min_lr && min_lr >= 0,
            "cosine schedule: need total_steps > 0 and lr >= min_lr >= 0; got total_steps=",
            total_steps, " lr=", base, " min_lr=", min_lr);
  return std::make_unique<CosineSchedule>(base, total_steps, min_lr);
}

std::unique_ptr<LrSchedule> Constant(float value) {
  PSG_CHECK(value >= 0, "constant schedule: lr must be >= 0, got ", value);
  return std::make_unique<ConstantSchedule>(value);
}

std::unique_ptr<LrSchedule> WithLinearWarmup(std::unique_ptr<LrSchedule> inner,
                                             int64_t warmup_steps, float start_factor) {
  PSG_CHECK(warmup_steps >= 0 && start_factor >= 0 && start_factor <= 1,
            "warm-up: need warmup_steps >= 0 and start_factor in [0, 1]");
  if (warmup_steps == 0) return inner;
  return std::make_unique<WarmupSchedule>(std::move(inner), warmup_steps, start_factor);
}

}  // namespace psg::engine
