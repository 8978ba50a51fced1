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

readonly FILES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin
                data_batch_4.bin data_batch_5.bin test_batch.bin)
readonly FILE_BYTES=30730000
readonly URL="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"

log() { echo "get_cifar10: $*" >&2; }
die() { echo "get_cifar10: error: $*" >&2; exit 1; }
usage() { sed -n '2,21s/^# \{0,1\}//p' "$0" >&2; }

# Prints what is wrong with the six files in $1 (nothing if all are right).
problems() {
  local dir="$1" f size
  for f in "${FILES[@]}"; do
    if [[ ! -f "$dir/$f" ]]; then
      echo "  $dir/$f: missing"
      continue
    fi
    size=$(wc -c < "$dir/$f")
    size=$((size))  # drop the padding some wc versions add
    if ((size != FILE_BYTES)); then
      echo "  $dir/$f: $size bytes, expected $FILE_BYTES (10000 records of" \
           "3073 bytes); truncated, or not the CIFAR-10 binary version"
    fi
  done
}

# The directory holding data_batch_1.bin at or below $1.
find_batches() {
  local root="$1" hit
  if [[ -f "$root/data_batch_1.bin" ]]; then
    echo "$root"
    return
  fi
  hit=$(find "$root" -name data_batch_1.bin -print -quit 2>/dev/null || true)
  [[ -n "$hit" ]] || die "no data_batch_1.bin in $2"
  dirname "$hit"
}

dest=""
src="${PSG_CIFAR10:-}"
src_origin="\$PSG_CIFAR10"
while (($#)); do
  case "$1" in
    --dest) (($# >= 2)) || die "--dest needs a directory"; dest="$2"; shift 2 ;;
    --dest=*) dest="${1#--dest=}"; shift ;;
    --src) (($# >= 2)) || die "--src needs a path"; src="$2"; src_origin="--src"; shift 2 ;;
    --src=*) src="${1#--src=}"; src_origin="--src"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die "unknown argument: $1" ;;
  esac
done

if [[ -z "$dest" ]]; then
  cache="${XDG_CACHE_HOME:-${HOME:-}/.cache}"
  [[ "$cache" != /.cache ]] || die "neither HOME nor XDG_CACHE_HOME is set: pass --dest DIR"
  dest="$cache/psg-toolkit/data"
fi

target="$dest/cifar-10-batches-bin"
if [[ -d "$target" ]]; then
  found="$(problems "$target")"
  if [[ -z "$found" ]]; then
    log "already in place and verified"
    echo "$target"
    exit 0
  fi
  log "replacing the incomplete copy in $target:"
  echo "$found" >&2
fi

if [[ -z "$src" ]]; then
  repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
  shared="$repo/../shared/data/cifar-10-binary.tar.xz"
  if [[ -f "$shared" ]]; then
    src="$shared"
    src_origin="the shared copy"
  fi
fi

mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.get_cifar10.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if [[ -z "$src" ]]; then
  src="$tmp/cifar-10-binary.tar.gz"
  src_origin="the download"
  log "downloading $URL"
  if command -v curl > /dev/null; then
    curl -fL --retry 3 -o "$src" "$URL" || die "download of $URL failed"
  elif command -v wget > /dev/null; then
    wget -O "$src" "$URL" || die "download of $URL failed"
  else
    die "no source: pass --src PATH or set PSG_CIFAR10 (curl and wget are" \
        "not installed for a download)"
  fi
fi

if [[ -d "$src" ]]; then
  log "copying from $src"
  from="$(find_batches "$src" "$src_origin $src")"
elif [[ -f "$src" ]]; then
  log "extracting $src"
  mkdir "$tmp/extract"
  tar -xf "$src" -C "$tmp/extract" ||
    die "cannot extract $src_origin $src (expected a .tar.gz or .tar.xz archive)"
  from="$(find_batches "$tmp/extract" "$src_origin $src")"
else
  die "$src_origin $src: no such file or directory"
fi

found="$(problems "$from")"
[[ -z "$found" ]] || die "$src_origin $src is not CIFAR-10 (binary version):
$found"

mkdir "$tmp/cifar-10-batches-bin"
for f in "${FILES[@]}" batches.meta.txt; do
  if [[ -f "$from/$f" ]]; then
    if [[ "$from" == "$tmp"/* ]]; then
      mv "$from/$f" "$tmp/cifar-10-batches-bin/"
    else
      cp "$from/$f" "$tmp/cifar-10-batches-bin/"
    fi
  fi
done
found="$(problems "$tmp/cifar-10-batches-bin")"
[[ -z "$found" ]] || die "copy to $dest failed:
$found"

rm -rf "$target"
mv "$tmp/cifar-10-batches-bin" "$target"
log "CIFAR-10 is in $target"
echo "$target"
