// Parameters: the named, typed tensors of a model that optimizers, PSG,
// quantizers, pruners and checkpoints walk. Values and gradients are plain
// row-major tensors with the output channel outermost (oihw, oi, x), so a
// per-output-channel operation sees contiguous rows.
//
//   ParameterList params;
//   model.CollectParameters(&params);
//   for (Parameter* p : params) {
//     if (p->kind == ParamKind::kConvWeight) Visit(p->name, p->value.flat(), p->grad.flat());
//   }
#ifndef PSG_ENGINE_PARAMETER_H_
#define PSG_ENGINE_PARAMETER_H_

#include <string>
#include <vector>

#include "engine/tensor.h"

namespace psg::engine {

enum class ParamKind {
  kConvWeight,
  kConvBias,
  kFcWeight,
  kFcBias,
  kBnGamma,
  kBnBeta,
  kBnRunningMean,  // state, not trained: grad is empty
  kBnRunningVar,   // state, not trained: grad is empty
  kActivationClip,  // a learned activation clipping level (PACT's alpha), {1}
  kQuantStep,       // a learned quantization step size (LSQ's s), {1}
  kGateLogAlpha,    // a learned gate's log alpha (L0's hard concrete gate), one per gated weight
};

const char* ParamKindName(ParamKind kind);

struct Parameter {
  std::string name;
  ParamKind kind;
  Tensor value;
  Tensor grad;  // same dims as value; empty for state that is not trained

  bool trainable() const { return !grad.empty(); }
  // Rows of the output-channel-major layout: dims[0] for weights and vectors.
  int64_t out_channels() const { return value.dims()[0]; }

  // A trainable parameter with zeroed value and gradient.
  static Parameter Trainable(std::string name, ParamKind kind, const Dims& dims);
  // A non-trainable state tensor filled with `init`.
  static Parameter State(std::string name, ParamKind kind, const Dims& dims, float init);
};

using ParameterList = std::vector<Parameter*>;

// The trainable entries of `all`, in order.
ParameterList TrainableOnly(const ParameterList& all);

// Copies every value of `from` into `to`, entry by entry: the same model built
// twice (e.g. in fp32 and in bf16). Throws std::invalid_argument when the
// lists differ in length, names or dims.
void CopyValues(const ParameterList& from, const ParameterList& to);

}  // namespace psg::engine

#endif  // PSG_ENGINE_PARAMETER_H_
