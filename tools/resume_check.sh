#!/usr/bin/env bash
# Kills a real training run with SIGKILL in the middle of an epoch, resumes
# it with --resume=auto, and compares the final weights with those of an
# uninterrupted run of the same command. Prints the steps the kill lost and
# the comparison; exits non-zero if the weights differ.
#
#   bash tools/resume_check.sh [work_dir]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$PWD/runs/resume_check}"
rm -rf "$work"
mkdir -p "$work"
data_dir="$(dirname "$(bash tools/get_cifar10.sh)")"
bazel build //experiments:train //tools:checkpoint_diff
bin="$(bazel info bazel-bin 2>/dev/null)"

train() {  # train <run dir> [extra flags]
  local dir="$1"
  shift
  "$bin/experiments/train" --model=resnet20 --dataset=cifar10 --data_dir="$data_dir" \
    --epochs=2 --max_train_images=5120 --max_eval_images=1000 --batch_size=128 \
    --schedule=onecycle --lr=0.1 --nesterov --weight_decay=5e-4 --seed=3 \
    --checkpoint_every_steps=10 --progress_every=1 --output_dir="$dir" "$@"
}

echo "== uninterrupted run"
train "$work/straight" > "$work/straight.log"

echo "== run killed with SIGKILL in epoch 2"
train "$work/killed" > "$work/killed.log" &
pid=$!
until grep -q "epoch 2/2  batch 25/40" "$work/killed.log" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { echo "run ended before the kill point" >&2; exit 1; }
  sleep 0.2
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
batch=$(grep -Eo "epoch 2/2  batch [0-9]+" "$work/killed.log" | tail -1 | grep -Eo "[0-9]+$")
last_step=$((40 + batch))  # 40 steps per epoch
echo "killed after step ${last_step} (last progress line: $(grep "batch" "$work/killed.log" | tail -1))"

echo "== resumed with --resume=auto"
train "$work/killed" --resume=auto > "$work/resumed.log"
resumed_step=$(grep -Eo "at epoch [0-9]+, batch [0-9]+, step [0-9]+" "$work/resumed.log" | awk '{print $NF}')
echo "resumed from step ${resumed_step}: $((last_step - resumed_step)) steps lost and redone"

echo "== final weights: uninterrupted vs killed + resumed"
"$bin/tools/checkpoint_diff" "$work/straight/last.safetensors" "$work/killed/last.safetensors"
