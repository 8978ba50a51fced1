#include "cli/eval_images_flag.h"

#include "absl/flags/flag.h"
#include "flags/ranges.h"

ABSL_FLAG(int64_t, max_eval_images, 0,
          "evaluate on the first N test images only (0: all)");
PSG_FLAG_RANGE(max_eval_images, psg::flags::AtLeast(0));
