// Which parameters PSG scales, and at which bit-width: the released layer
// policy, each choice a flag. Defaults reproduce the released code:
//   - every convolution weight (1x1 shortcuts too) is covered;
//   - the first convolution (the first kConvWeight in the list) and the last
//     fully-connected layer (the last kFcWeight) are covered, weight and bias,
//     only when cover_first_last is on;
//   - they use 8 bits when the target is below 4 bits;
//   - a bias is covered like the weight of its layer (the nearest preceding
//     weight of the same layer type, as layers list weight then bias);
//   - hidden fully-connected layers, BatchNorm parameters, learned quantizer
//     parameters (kActivationClip, kQuantStep), learned pruning gates
//     (kGateLogAlpha) and anything else are not covered and get the plain
//     gradient.
//
//   std::vector<Coverage> coverage = ResolveCoverage(params, {.bits = 4});
//   if (coverage[i].covered) UseGrid(coverage[i].bits);
#ifndef PSG_COMPRESSION_COVERAGE_H_
#define PSG_COMPRESSION_COVERAGE_H_

#include <vector>

#include "compression/released_defaults.h"
#include "engine/parameter.h"

namespace psg::compression {

struct CoverageOptions {
  int bits = kReleasedWeightBits;  // target bit-width, 2..8
  bool cover_first_last = true;    // first conv and last FC, weight and bias
  bool widen_first_last = true;    // first/last use 8 bits when bits < 4
  bool cover_hidden_fc = false;    // fully-connected layers other than the last
  bool cover_conv_bias = true;
};

struct Coverage {
  bool covered = false;
  int bits = 0;  // the grid bit-width when covered
};

// One entry per parameter of `params`, in order.
std::vector<Coverage> ResolveCoverage(const engine::ParameterList& params,
                                      const CoverageOptions& options);

}  // namespace psg::compression

#endif  // PSG_COMPRESSION_COVERAGE_H_
