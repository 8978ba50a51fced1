#!/usr/bin/env python3
"""Side-by-side speed of psg-toolkit and PyTorch on this machine, in one run.

Runs the same models at the same batch sizes in PyTorch (fp32 in NCHW and
channels_last; int8 with torch.ao.quantization FX mode on the onednn backend)
and in the toolkit (bench/train_throughput and bench/infer_throughput), in
alternating rounds so that a change of machine load hits both alike, and
prints the median img/s of each and the toolkit / best-PyTorch ratios.

The models are built alike in both: CIFAR ResNet-20/32 with projection
shortcuts (1x1 conv + BN), ResNet-18 at 224x224; the script checks that the
parameter counts agree. Training steps are SGD (momentum 0.9, weight decay
1e-4) on a fixed random batch; the data loader is not part of either.

Installs nothing. Use the wrapper, which builds the toolkit's binaries:

  tools/compare_pytorch.sh --models=resnet20,resnet32,resnet18 --threads=2
"""

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train_bin", required=True, help="path of bench/train_throughput")
    p.add_argument("--infer_bin", required=True, help="path of bench/infer_throughput")
    p.add_argument("--models", default="resnet20,resnet32,resnet18")
    p.add_argument("--modes", default="train,infer", help="train, infer or both")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians over rounds")
    p.add_argument("--steps", type=int, default=10, help="timed training steps per measurement")
    p.add_argument("--passes", type=int, default=20, help="timed inference passes per measurement")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--output", default="", help="JSON result file (optional)")
    args = p.parse_args()
    for name in ("rounds", "steps", "passes", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    for path in (args.train_bin, args.infer_bin):
        if not os.access(path, os.X_OK):
            p.error(f"toolkit binary '{path}' not found or not executable; build it with "
                    "bazel build //bench:train_throughput //bench:infer_throughput")
    return args


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    torch = None


def batch_size(model):
    return 32 if model == "resnet18" else 128


if torch is not None:

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            h = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self, stem, stages, classes):
            super().__init__()
            self.stem = stem
            layers, cin = [], stem[0].out_channels
            for blocks, width, stride in stages:
                for i in range(blocks):
                    layers.append(BasicBlock(cin, width, stride if i == 0 else 1))
                    cin = width
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(cin, classes)

        def forward(self, x):
            h = self.layers(self.stem(x))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))

    def build_model(name):
        if name == "resnet18":
            stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                 nn.ReLU(), nn.MaxPool2d(3, 2, 1))
            return ResNet(stem, [(2, 64, 1), (2, 128, 2), (2, 256, 2), (2, 512, 2)], 1000)
        depth = int(name.replace("resnet", ""))
        n = (depth - 2) // 6
        stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        return ResNet(stem, [(n, 16, 1), (n, 32, 2), (n, 64, 2)], 10)


def input_shape(model):
    side = 224 if model == "resnet18" else 32
    return (batch_size(model), 3, side, side)


def median_seconds(run, steps, warmup):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_train(model_name, layout, args):
    torch.manual_seed(1)
    model = build_model(model_name)
    x = torch.rand(input_shape(model_name)) * 2 - 1
    classes = model.fc.out_features
    y = torch.arange(x.shape[0]) % classes
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return x.shape[0] / median_seconds(step, args.steps, args.warmup)


def torch_infer(model_name, variant, args):
    torch.manual_seed(1)
    model = build_model(model_name)
    x = torch.rand(input_shape(model_name)) * 2 - 1
    model.train()
    with torch.no_grad():
        for _ in range(3):  # non-trivial BN running statistics, as the toolkit's bench
            model(x)
    model.eval()
    if variant.startswith("int8"):
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
        torch.backends.quantized.engine = "onednn"
        prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), (x,))
        with torch.no_grad():
            prepared(x)
        model = convert_fx(prepared)
    if variant.endswith("channels_last"):
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if variant == "fp32 jit frozen channels_last":
        with torch.no_grad():
            model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x)))

    def run():
        with torch.no_grad():
            model(x)

    return x.shape[0] / median_seconds(run, args.passes, args.warmup)


@functools.lru_cache(maxsize=None)  # checked every round, built once
def parameter_count(model_name):
    return sum(p.numel() for p in build_model(model_name).parameters())


def toolkit(binary, flags):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [binary] + flags + [f"--output={out.name}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"toolkit run failed: {' '.join(cmd)}\n{done.stdout}{done.stderr}")
        with open(out.name) as f:
            return json.load(f)


def toolkit_train(model_name, args):
    r = toolkit(args.train_bin, [f"--models={model_name}", "--optimizers=sgd",
                                 f"--threads={args.threads}", f"--steps={args.steps}",
                                 f"--warmup={args.warmup}"])["results"][0]
    expected = parameter_count(model_name)
    if r["parameters"] != expected:
        sys.exit(f"{model_name}: toolkit has {r['parameters']} parameters, PyTorch {expected}; "
                 "the models differ")
    return {"toolkit fp32": r["images_per_second"]}


def toolkit_infer(model_name, args):
    rs = toolkit(args.infer_bin, [f"--models={model_name}", "--precisions=fp32,fp32_fused,int8",
                                  f"--threads={args.threads}", f"--passes={args.passes}",
                                  f"--warmup={args.warmup}"])["results"]
    return {f"toolkit {r['precision']}": r["images_per_second"] for r in rs}


TORCH_TRAIN = {"fp32 NCHW": "NCHW", "fp32 channels_last": "channels_last"}  # name: layout
TORCH_INFER = ["fp32 NCHW", "fp32 channels_last", "fp32 jit frozen channels_last",
               "int8 NCHW", "int8 channels_last"]


def measure(args):
    torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    samples = {}  # (mode, model, variant) -> [img/s per round]
    for r in range(args.rounds):
        for model_name in models:
            for mode in modes:
                # Alternate who goes first from round to round.
                if mode == "train":
                    runs = [lambda: toolkit_train(model_name, args),
                            lambda: {f"torch {v}": torch_train(model_name, layout, args)
                                     for v, layout in TORCH_TRAIN.items()}]
                else:
                    runs = [lambda: toolkit_infer(model_name, args),
                            lambda: {f"torch {v}": torch_infer(model_name, v, args)
                                     for v in TORCH_INFER}]
                if r % 2 == 1:
                    runs.reverse()
                for run in runs:
                    for variant, ips in run().items():
                        samples.setdefault((mode, model_name, variant), []).append(ips)
                print(f"round {r + 1}/{args.rounds}: {mode} {model_name} measured", flush=True)
    return models, modes, {k: statistics.median(v) for k, v in samples.items()}, samples


def report(models, modes, medians, args):
    rows, ratios = [], []
    for mode in modes:
        for model_name in models:
            for (m, mn, variant), ips in sorted(medians.items()):
                if m == mode and mn == model_name:
                    rows.append((mode, model_name, batch_size(model_name), variant, ips))
            def best(prefix):
                return max(ips for (m, mn, v), ips in medians.items()
                           if m == mode and mn == model_name and v.startswith(prefix))
            toolkit_fp32 = best("toolkit fp32")
            ratios.append((mode, model_name, "best toolkit fp32 / best PyTorch fp32",
                           toolkit_fp32 / best("torch fp32")))
            if mode == "infer":
                int8 = medians[(mode, model_name, "toolkit int8")]
                ratios.append((mode, model_name, "toolkit int8 / best PyTorch int8 (onednn)",
                               int8 / best("torch int8")))
                ratios.append((mode, model_name, "toolkit int8 / best toolkit fp32",
                               int8 / toolkit_fp32))
    print(f"\n| mode | model | batch | implementation | img/s |\n|---|---|---|---|---|")
    for mode, model_name, batch, variant, ips in rows:
        print(f"| {mode} | {model_name} | {batch} | {variant} | {ips:.1f} |")
    print(f"\n| mode | model | ratio | value |\n|---|---|---|---|")
    for mode, model_name, what, value in ratios:
        print(f"| {mode} | {model_name} | {what} | {value:.2f}x |")
    print(f"\n({args.threads} threads; median over {args.rounds} alternating rounds of the median "
          f"of {args.steps} training steps / {args.passes} inference passes after {args.warmup} "
          f"warm-up; PyTorch {torch.__version__})")
    return rows, ratios


def main():
    args = parse_args()
    if torch is None:
        print("compare_pytorch: PyTorch is not installed for this Python "
              f"({sys.executable}); skipping the comparison. Debian: apt-get install python3-torch")
        return 0
    models, modes, medians, samples = measure(args)
    rows, ratios = report(models, modes, medians, args)
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"threads": args.threads, "rounds": args.rounds, "steps": args.steps,
                       "passes": args.passes, "torch": torch.__version__,
                       "results": [dict(zip(("mode", "model", "batch", "implementation",
                                             "images_per_second"), r)) for r in rows],
                       "ratios": [dict(zip(("mode", "model", "ratio", "value"), r))
                                  for r in ratios],
                       "per_round": {" | ".join(k): v for k, v in samples.items()}}, f, indent=1)
        print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
