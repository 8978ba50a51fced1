#!/usr/bin/env python3
"""Projects ResNet-18 ImageNet epoch time on N nodes from measured numbers.

  python3 bench/scaling_projection.py ONE_RANK.json TWO_RANKS.json

ONE_RANK.json: bazel-bin/bench/data_parallel_step --models=resnet18 --output=...
(one process, all cores of the node): the compute time of a training step.
TWO_RANKS.json: the same under mpirun -np 2 --distributed=mpi: the bytes each
rank reduces per step and the number of buckets.

The model, stated in the output:
  - a step of the standard recipe (global batch 256, 5,005 steps per epoch of
    1,281,167 images) on N nodes runs 256 / N images per node; its compute is
    that many times the measured time per image (optimistic for small
    per-node batches, which use the cores less well);
  - the gradients are summed by a ring allreduce per bucket: each node sends
    and receives 2 (N - 1) / N x bytes at the link bandwidth, plus
    2 (N - 1) message latencies per bucket;
  - buckets start while backward runs (about two thirds of a step), so up to
    that much communication is hidden; the rest adds to the step. The figure
    without any overlap is shown beside it.
"""
import json
import math
import sys

IMAGES = 1281167
GLOBAL_BATCH = 256
LATENCY_S = 10e-6      # per message: a good TCP or RDMA network
BACKWARD_SHARE = 2 / 3  # of a step, the time buckets can overlap with


def resnet18(path):
    with open(path) as f:
        for r in json.load(f)["results"]:
            if r["model"] == "resnet18":
                return r
    raise SystemExit(f"{path}: no resnet18 result")


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    one, two = resnet18(sys.argv[1]), resnet18(sys.argv[2])
    seconds_per_image = one["step_ms"] / 1e3 / one["global_batch"]
    nbytes, buckets = two["bytes_reduced_per_step"], two["buckets"]
    steps = math.ceil(IMAGES / GLOBAL_BATCH)
    print(f"measured: {1 / seconds_per_image:.1f} img/s per node ({one['threads']} threads), "
          f"{nbytes / 1e6:.1f} MB in {buckets} buckets per step\n")
    for label, speedup in (("a node like this one", 1), ("a node 16x faster (e.g. 32 such cores)", 16)):
        print(f"#### {label}\n")
        print("| nodes | images per node per step | compute s per step | link | allreduce s per step "
              "| epoch (overlapped) | epoch (no overlap) |\n|---|---|---|---|---|---|---|")
        for nodes in (8, 32, 64):
            compute = GLOBAL_BATCH / nodes * seconds_per_image / speedup
            for gbit in (25, 100):
                ring = 2 * (nodes - 1) / nodes * nbytes / (gbit * 1e9 / 8)
                allreduce = ring + buckets * 2 * (nodes - 1) * LATENCY_S
                exposed = max(0.0, allreduce - BACKWARD_SHARE * compute)
                print(f"| {nodes} | {GLOBAL_BATCH // nodes} | {compute:.3f} | {gbit} Gb/s | "
                      f"{allreduce:.4f} | {steps * (compute + exposed) / 60:.1f} min | "
                      f"{steps * (compute + allreduce) / 60:.1f} min |")
        print()


if __name__ == "__main__":
    main()
