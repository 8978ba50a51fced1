#include "engine/parameter_snapshot.h"

#include <algorithm>

namespace psg::engine {

WeightSnapshot::WeightSnapshot(const ParameterList& params) : params_(params) {
  values_.reserve(params_.size());
  for (const Parameter* p : params_) values_.emplace_back(p->value.flat().size());
  Capture();
}

void WeightSnapshot::Capture() {
  for (size_t i = 0; i < params_.size(); ++i) {
    const absl::Span<const float> w = params_[i]->value.flat();
    std::copy(w.begin(), w.end(), values_[i].begin());
  }
}

void WeightSnapshot::Restore() const {
  for (size_t i = 0; i < params_.size(); ++i) {
    std::copy(values_[i].begin(), values_[i].end(), params_[i]->value.flat().begin());
  }
}

}  // namespace psg::engine
