// --output_dir: where a command or a paper table writes its results,
// defined once for all of them (each says what an empty value means):
//
//   const std::string dir = OutputDirFor(absl::GetFlag(FLAGS_output_dir), checkpoint, "ptq");
#ifndef PSG_CLI_OUTPUT_DIR_FLAG_H_
#define PSG_CLI_OUTPUT_DIR_FLAG_H_

#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, output_dir);

#endif  // PSG_CLI_OUTPUT_DIR_FLAG_H_
