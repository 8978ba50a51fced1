#!/usr/bin/env bash
# Puts CIFAR-100 (binary version) at DEST/cifar-100-binary, where --dataset=cifar100
# looks for it, and prints that directory as the last line of stdout (progress goes
# to stderr), so
#   dir="$(tools/get_cifar100.sh)"
# works in scripts.
#
# Usage: tools/get_cifar100.sh [--dest DIR] [--src PATH]
#   --dest DIR  default: ${XDG_CACHE_HOME:-~/.cache}/psg-toolkit/data
#   --src PATH  a cifar-100-binary directory (or a directory above it), or a
#               .tar.gz / .tar.xz archive of it, as downloaded
#
# Source, first that applies: --src; $PSG_CIFAR100 (same forms as --src);
# <repository>/../shared/data/cifar-100/build_cifar100.sh (rebuilds the official
# files from lossless JPEG XL mosaics and checks their SHA-256; needs djxl from
# Debian's libjxl-tools); a download of the official
# https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz (curl or wget).
#
# train.bin must be exactly 153,700,000 bytes and test.bin 30,740,000 (records
# of 1 coarse label + 1 fine label + 3072 pixel bytes); anything else is
# refused. Once DEST holds verified files, running again only re-checks them.
set -euo pipefail

readonly TOOL=get_cifar100 DIRECTORY=cifar-100-binary SRC_ENV=PSG_CIFAR100 RECORD_BYTES=3074
readonly URL="https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
readonly FILES=(train.bin test.bin)
readonly EXTRA_FILES=(fine_label_names.txt coarse_label_names.txt)
declare -A FILE_BYTES=([train.bin]=153700000 [test.bin]=30740000)

usage() { sed -n '2,22s/^# \{0,1\}//p' "$0" >&2; }

shared_source() {
  local repo builder
  repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
  builder="$repo/../shared/data/cifar-100/build_cifar100.sh"
  [[ -f "$builder" ]] || return 0
  log "rebuilding from the shared copy ($builder)"
  bash "$builder" "$1/build" >&2 || die "$builder failed (see above)"
  echo "$1/build"
}

source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/fetch_dataset.sh"
fetch_dataset "$@"
