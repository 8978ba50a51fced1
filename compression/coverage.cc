#include "compression/coverage.h"

#include "compression/quant_grid.h"

namespace psg::compression {
namespace {

Coverage CoveredIf(bool covered, int bits) { return covered ? Coverage{true, bits} : Coverage{}; }

}  // namespace

std::vector<Coverage> ResolveCoverage(const engine::ParameterList& params,
                                      const CoverageOptions& options) {
  
  CheckGridBits(options.bits, "PSG policy");
  const int64_t n = params.size();
  int64_t first_conv = -1, last_fc = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (params[i]->kind == engine::ParamKind::kConvWeight && first_conv < 0) first_conv = i;
    if (params[i]->kind == engine::ParamKind::kFcWeight) last_fc = i;
  }
  const int edge_bits = options.widen_first_last && options.bits < kReleasedFirstLastWidenBelowBits
                            ? kReleasedFirstLastBits
                            : options.bits;
  const Coverage edge = CoveredIf(options.cover_first_last, edge_bits);

  std::vector<Coverage> coverage(n);
  Coverage conv_weight, fc_weight;  // the current layer's weight, which its bias follows
  for (int64_t i = 0; i < n; ++i) {
    switch (params[i]->kind) {
      case engine::ParamKind::kConvWeight:
        conv_weight = i == first_conv ? edge : CoveredIf(true, options.bits);
        coverage[i] = conv_weight;
        break;
      case engine::ParamKind::kConvBias:
        coverage[i] = options.cover_conv_bias ? conv_weight : Coverage{};
        break;
      case engine::ParamKind::kFcWeight:
        fc_weight = i == last_fc ? edge : CoveredIf(options.cover_hidden_fc, options.bits);
        coverage[i] = fc_weight;
        break;
      case engine::ParamKind::kFcBias:
        coverage[i] = fc_weight;
        break;
      default:  // BatchNorm parameters and state, learned quantizer clips and steps, gates
        break;
    }
  }
  return coverage;
}

}  // namespace psg::compression
