#!/usr/bin/env bash
# The main job on a fresh machine: put CIFAR-10 in place, build, and train a
# ResNet-20 for a short run on real data, printing its result table.
# Extra arguments go to //experiments:train (e.g. --epochs=40 for a full run).
#
#   bash tools/quickstart.sh [--output_dir=DIR] [train flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="$(bash tools/get_cifar10.sh)"
data_dir="$(dirname "$data_dir")"   # the directory holding cifar-10-batches-bin/

bazel run //experiments:train -- \
  --model=resnet20 --dataset=cifar10 --data_dir="$data_dir" \
  --epochs=2 --max_train_images=10000 --batch_size=128 \
  --schedule=onecycle --lr=0.1 --nesterov --weight_decay=5e-4 \
  --output_dir="${PWD}/runs/quickstart" --progress_every=20 "$@"
