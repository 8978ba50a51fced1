#include "cli/checkpoint_flag.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, checkpoint, "",
          "checkpoint the command reads (required)");
