#!/usr/bin/env bash
# The main job on a fresh machine: put CIFAR-10 in place, build, and run a
# short PSG experiment on real data with PSG's two-stage recipe:
#   1. ResNet-20 trained with SGD (3 epochs on 20,000 images),
#   2. PSGD with a 4-bit grid target from that checkpoint (2 epochs, lr 0.01),
#   3. both models' weights rounded to 8 and 4 bits (//experiments:ptq),
# printing each stage's table: test accuracy, for PSGD the 4-bit quantization
# MSE of every covered layer before and after, and the quantized accuracies.
# Extra arguments go to both training stages (e.g. --threads=1).
#
#   bash tools/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="$(dirname "$(bash tools/get_cifar10.sh)")"
out="${PWD}/runs/quickstart"
rm -rf "$out"
common=(--model=resnet20 --dataset=cifar10 --data_dir="$data_dir" --batch_size=128
        --max_train_images=20000 --nesterov --weight_decay=5e-4 --progress_every=40)

echo "== stage 1: SGD"
bazel run //experiments:train -- "${common[@]}" --epochs=3 --schedule=onecycle --lr=0.1 \
  --output_dir="$out/sgd" "$@"

echo "== stage 2: PSGD, 4-bit grid target, from the SGD checkpoint"
bazel run //experiments:train -- "${common[@]}" --epochs=2 --schedule=constant --lr=0.01 \
  --init_from="$out/sgd/last.safetensors" --optimizer=psgd --psg_target=grid --psg_bits=4 \
  --psg_lambda=150 --output_dir="$out/psgd" "$@"

echo "== stage 3: post-training quantization of both models (weights, no fine-tuning)"
for model in sgd psgd; do
  bazel run //experiments:ptq -- --data_dir="$data_dir" --bits=8,4 \
    --checkpoint="$out/$model/last.safetensors" --output_dir="$out/$model/ptq"
done
