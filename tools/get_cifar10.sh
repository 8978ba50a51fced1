#!/usr/bin/env bash
# Puts CIFAR-10 (binary version) at DEST/cifar-10-batches-bin and prints that
# directory as the last line of stdout (progress goes to stderr), so
#   dir="$(tools/get_cifar10.sh)"
# works in scripts.
#
# Usage: tools/get_cifar10.sh [--dest DIR] [--src PATH]
#   --dest DIR  default: ${XDG_CACHE_HOME:-~/.cache}/psg-toolkit/data
#   --src PATH  a cifar-10-batches-bin directory (or a directory above it), or
#               a .tar.gz / .tar.xz archive of it, as downloaded
#
# Source, first that applies: --src; $PSG_CIFAR10 (same forms as --src);
# <repository>/../shared/data/cifar-10-binary.tar.xz; a download of the
# official https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (curl or
# wget).
#
# Each of data_batch_1..5.bin and test_batch.bin must be exactly 30,730,000
# bytes (10,000 records of 1 label + 3072 pixel bytes); anything else is
# refused. Once DEST holds verified files, running again only re-checks them.
set -euo pipefail

readonly TOOL=get_cifar10 DIRECTORY=cifar-10-batches-bin SRC_ENV=PSG_CIFAR10 RECORD_BYTES=3073
readonly URL="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
readonly FILES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin
                data_batch_4.bin data_batch_5.bin test_batch.bin)
readonly EXTRA_FILES=(batches.meta.txt)
declare -A FILE_BYTES
for f in "${FILES[@]}"; do FILE_BYTES[$f]=30730000; done

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; }

shared_source() {
  local repo
  repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
  [[ ! -f "$repo/../shared/data/cifar-10-binary.tar.xz" ]] || echo "$repo/../shared/data/cifar-10-binary.tar.xz"
}

source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/fetch_dataset.sh"
fetch_dataset "$@"
