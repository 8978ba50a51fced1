#!/usr/bin/env bash
# Builds the toolkit's throughput benchmarks and peak probe and runs
# bench/compare_pytorch.py with them: toolkit vs PyTorch (Debian's
# python3-torch) side by side in one run, fp32, int8 and bf16 (where the CPU
# has AVX512-BF16). Installs nothing; without PyTorch the script says so and exits 0.
# Arguments go to the script (see its --help), e.g.:
#
#   bash tools/compare_pytorch.sh --models=resnet20,resnet32,resnet18 --threads=2 \
#       --output=runs/compare_pytorch.json
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //bench:train_throughput //bench:infer_throughput //bench:peak_flops
bin="$(bazel info bazel-bin)/bench"
# Debian's torch lives in the system Python, which a pyenv or venv may shadow.
python="${PYTHON:-/usr/bin/python3}"
[[ -x "$python" ]] || python=python3
exec "$python" bench/compare_pytorch.py --train_bin="$bin/train_throughput" \
  --infer_bin="$bin/infer_throughput" --peak_bin="$bin/peak_flops" "$@"
