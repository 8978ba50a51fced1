#include "engine/parameter_snapshot.h"

#include <algorithm>

namespace psg::engine {

WeightSnapshot::WeightSnapshot(const ParameterList& params) : params_(params) {
  values_.reserve(params_.size());
  for (const Parameter* p : params_) {
    const absl::Span<const float> w = p->value.flat();
    values_.emplace_back(w.begin(), w.end());
  }
}

void WeightSnapshot::Restore() const {
  for (size_t i = 0; i < params_.size(); ++i) {
    std::copy(values_[i].begin(), values_[i].end(), params_[i]->value.flat().begin());
  }
}

}  // namespace psg::engine
