#include "engine/parameter.h"

#include "engine/check.h"

namespace psg::engine {

const char* ParamKindName(ParamKind kind) {
  switch (kind) {
    case ParamKind::kConvWeight: return "conv_weight";
    case ParamKind::kConvBias: return "conv_bias";
    case ParamKind::kFcWeight: return "fc_weight";
    case ParamKind::kFcBias: return "fc_bias";
    case ParamKind::kBnGamma: return "bn_gamma";
    case ParamKind::kBnBeta: return "bn_beta";
    case ParamKind::kBnRunningMean: return "bn_running_mean";
    case ParamKind::kBnRunningVar: return "bn_running_var";
    case ParamKind::kActivationClip: return "activation_clip";
    case ParamKind::kQuantStep: return "quant_step";
    case ParamKind::kGateLogAlpha: return "gate_log_alpha";
  }
  return "unknown";
}

Parameter Parameter::Trainable(std::string name, ParamKind kind, const Dims& dims) {
  return Parameter{std::move(name), kind, Tensor::Plain(dims), Tensor::Plain(dims)};
}

Parameter Parameter::State(std::string name, ParamKind kind, const Dims& dims, float init) {
  Parameter p{std::move(name), kind, Tensor::Plain(dims), Tensor()};
  p.value.Fill(init);
  return p;
}

ParameterList TrainableOnly(const ParameterList& all) {
  ParameterList out;
  for (Parameter* p : all) {
    if (p->trainable()) out.push_back(p);
  }
  return out;
}

void CopyValues(const ParameterList& from, const ParameterList& to) {
  PSG_CHECK(from.size() == to.size(), "CopyValues: ", from.size(), " parameters into ", to.size());
  for (size_t i = 0; i < from.size(); ++i) {
    PSG_CHECK(from[i]->name == to[i]->name && from[i]->value.dims() == to[i]->value.dims(),
              "CopyValues: parameter ", i, " is '", from[i]->name, "' ",
              DimsToString(from[i]->value.dims()), " in the source, '", to[i]->name, "' ",
              DimsToString(to[i]->value.dims()), " in the destination");
    to[i]->value.CopyFromPlain(from[i]->value.ToPlain());
  }
}

}  // namespace psg::engine
