#include "engine/parameter.h"

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

}  // namespace psg::engine
