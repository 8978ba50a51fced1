#include "cli/output_dir_flag.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, output_dir, "",
          "where the results go: required by train and weight_histogram; ptq, prune_sweep, logits and structured_prune default to a directory beside --checkpoint, the paper tables to runs/<table>_<budget>");
