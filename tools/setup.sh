#!/usr/bin/env bash
# Installs every Debian 12 package psg-toolkit needs to build, test and run,
# then ONNX Runtime for Node.js from the npm registry (tools/get_onnxruntime.sh,
# for the ONNX export tests). Idempotent: installs only what is missing, and
# does nothing (no network) when everything is present. Needs root or sudo
# for the packages.
#
#   bash tools/setup.sh
set -euo pipefail

readonly PACKAGES=(
  bazel-bootstrap bazel-rules-java        # Bazel 4.2.3 and the rules_java it needs offline
  g++ python3 xz-utils                    # compiler; coverage stand-in; CIFAR archive
  libdnnl-dev                             # oneDNN 2.6 (OpenMP)
  libabsl-dev                             # Abseil 20220623
  libgtest-dev libgmock-dev               # GoogleTest / GoogleMock
  libbenchmark-dev                        # Google Benchmark
  libjpeg62-turbo-dev zlib1g-dev          # JPEG folders, gzip IDX files
  libjxl-tools                            # djxl: CIFAR-100 from ../shared/data (tools/get_cifar100.sh)
  python3-torch python3-numpy             # tools/torch_bridge.py and its test (/usr/bin/python3)
  libonnx-dev libprotobuf-dev             # ONNX 1.12 and protobuf: ONNX export
  python3-onnx nodejs                     # the ONNX tests: onnx.checker, ONNX Runtime's host
  nlohmann-json3-dev                      # JSON result files and checkpoint headers
  clang-16 libclang-rt-16-dev libfuzzer-16-dev  # libFuzzer targets (--config=fuzz, fuzz/)
  libopenmpi-dev openmpi-bin              # Open MPI 4.1: data-parallel training (mpirun)
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
# Debian's nodejs comes without npm; other builds of nodejs (NodeSource's)
# include it and conflict with Debian's npm package.
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages are installed"
else
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

bash "$(dirname "$0")/get_onnxruntime.sh" > /dev/null
echo "setup: done"
