#!/usr/bin/env bash
# Installs ONNX Runtime for Node.js (the npm package onnxruntime-node 1.20.1,
# which ships the CPU runtime) for the ONNX export tests and prints its
# node_modules directory as the last line of stdout (progress goes to stderr):
#
#   NODE_PATH="$(tools/get_onnxruntime.sh)" node interop/onnx_run.js ...
#
# Usage: tools/get_onnxruntime.sh [--dest DIR]
#   --dest DIR  default: ${XDG_CACHE_HOME:-~/.cache}/psg-toolkit/onnxruntime-node-1.20.1
#
# Needs node and npm (tools/setup.sh installs them). The package comes from
# the npm registry with --ignore-scripts: its install script only fetches
# optional GPU binaries. Once DEST holds a copy that node can load, running
# again only re-checks it.
set -euo pipefail

readonly VERSION="1.20.1"

log() { echo "get_onnxruntime: $*" >&2; }
die() { echo "get_onnxruntime: error: $*" >&2; exit 1; }

dest=""
while (($#)); do
  case "$1" in
    --dest) (($# >= 2)) || die "--dest needs a directory"; dest="$2"; shift 2 ;;
    --dest=*) dest="${1#--dest=}"; shift ;;
    -h|--help) sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
if [[ -z "$dest" ]]; then
  cache="${XDG_CACHE_HOME:-${HOME:-}/.cache}"
  [[ "$cache" != /.cache ]] || die "neither HOME nor XDG_CACHE_HOME is set: pass --dest DIR"
  dest="$cache/psg-toolkit/onnxruntime-node-$VERSION"
fi
command -v node > /dev/null || die "node is not installed (run tools/setup.sh)"

# Prints the version node loads from node_modules directory $1 (fails if none).
loaded_version() {
  NODE_PATH="$1" node -e 'console.log(require("onnxruntime-node").env.versions.node)' 2> /dev/null
}

if [[ "$(loaded_version "$dest/node_modules" || true)" == "$VERSION" ]]; then
  log "onnxruntime-node $VERSION already in place"
  echo "$dest/node_modules"
  exit 0
fi

command -v npm > /dev/null || die "npm is not installed (run tools/setup.sh)"
mkdir -p "$dest"
log "installing onnxruntime-node@$VERSION into $dest"
npm install --prefix "$dest" --ignore-scripts --no-audit --no-fund --no-save --loglevel=error \
  "onnxruntime-node@$VERSION" >&2 || die "npm install onnxruntime-node@$VERSION failed"
version="$(loaded_version "$dest/node_modules" || true)"
[[ "$version" == "$VERSION" ]] ||
  die "node cannot load onnxruntime-node from $dest/node_modules (got '${version}')"
log "onnxruntime-node $VERSION is in $dest/node_modules"
echo "$dest/node_modules"
