#include "cli/psg_lambda_flag.h"

#include "absl/flags/flag.h"
#include "compression/released_defaults.h"
#include "flags/ranges.h"

ABSL_FLAG(double, psg_lambda, psg::compression::kReleasedPsgLambda, "PSGD lambda_s (released: 150 for 4 bits)");
PSG_FLAG_RANGE(psg_lambda, psg::flags::AtLeast(0));
