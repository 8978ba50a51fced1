#include "train/divergence.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/finite.h"

namespace psg::train {

std::string NonFinite::Describe() const {
  return absl::StrCat(what == Check::kGradients ? "the gradient of '" : "'", tensor, "' is ", value,
                      " at element ", element, " of ", shape);
}

std::optional<NonFinite> FindNonFinite(const engine::ParameterList& params, Check what) {
  for (const engine::Parameter* p : params) {
    const engine::Tensor& t = what == Check::kGradients ? p->grad : p->value;
    if (t.empty()) continue;  // state that is not trained has no gradient
    const absl::Span<const float> values = t.flat();
    const int64_t bad = engine::FirstNonFinite(values);
    if (bad < 0) continue;
    const engine::Dims dims = t.dims();
    return NonFinite{what, p->name, bad, values[bad], absl::StrCat("[", absl::StrJoin(dims, ","), "]")};
  }
  return std::nullopt;
}

}  // namespace psg::train
