// --psg_lambda: PSG's lambda_s, for train (cli/optimizer_flags) and for the
// paper tables' PSGD stages, defined once for both.
//
//   const double lambda = absl::GetFlag(FLAGS_psg_lambda);
#ifndef PSG_CLI_PSG_LAMBDA_FLAG_H_
#define PSG_CLI_PSG_LAMBDA_FLAG_H_

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(double, psg_lambda);

#endif  // PSG_CLI_PSG_LAMBDA_FLAG_H_
