// NumPy's .npy files (format version 1.0), for handing arrays to Python and
// other runtimes: magic, a little-endian header length, a Python dict literal
// ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }) padded with
// spaces and a newline so that the data starts at a multiple of 64 bytes, then
// the row-major little-endian data. numpy.load reads them.
//
//   absl::Status s = WriteNpy("logits.npy", {n, classes}, absl::MakeConstSpan(logits));
#ifndef PSG_IO_NPY_H_
#define PSG_IO_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace psg::io {

// float32 ('<f4') and int32 ('<i4') arrays; `values` must hold the product of
// `shape` elements (InvalidArgument otherwise). The file is replaced
// atomically (io/files.h); a failed write names it and the system error.
absl::Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape,
                      absl::Span<const float> values);
absl::Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape,
                      absl::Span<const int32_t> values);

}  // namespace psg::io

#endif  // PSG_IO_NPY_H_
