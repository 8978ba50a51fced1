#!/usr/bin/env python3
"""Side-by-side speed of psg-toolkit and PyTorch on this machine, in one run.

Runs the same models at the same batch sizes in PyTorch (fp32 in NCHW and
channels_last; int8 with torch.ao.quantization FX mode on the onednn backend;
bf16 with torch.autocast("cpu", dtype=torch.bfloat16) and channels_last, and
for inference also bf16 weights, plain and jit-frozen) and in the toolkit
(bench/train_throughput and bench/infer_throughput, fp32, int8 and bf16), in
alternating rounds so that a change of machine load hits both alike, and
prints the median img/s of each and the toolkit / best-PyTorch ratios. With
--peak_bin (bench/peak_flops) it also measures the cores' fp32 FMA and bf16
dot-product peaks and prints each training run's GFLOP/s and share of its
precision's peak.

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
    p.add_argument("--precisions", default="fp32,int8,bf16",
                   help="fp32 (always measured), int8 (inference), bf16 (needs AVX512-BF16)")
    p.add_argument("--peak_bin", default="", help="path of bench/peak_flops (optional)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians over rounds")
    p.add_argument("--steps", type=int, default=10, help="timed training steps per measurement")
    p.add_argument("--passes", type=int, default=20, help="timed inference passes per measurement")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--output", default="", help="JSON result file (optional)")
    p.add_argument("--between_rounds", default="",
                   help="shell command run between rounds, e.g. to let a paused job run a while")
    args = p.parse_args()
    for name in ("rounds", "steps", "passes", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    for path in (args.train_bin, args.infer_bin) + ((args.peak_bin,) if args.peak_bin else ()):
        if not os.access(path, os.X_OK):
            p.error(f"toolkit binary '{path}' not found or not executable; build it with "
                    "bazel build //bench:train_throughput //bench:infer_throughput //bench:peak_flops")
    args.precisions = {x.strip() for x in args.precisions.split(",") if x.strip()} | {"fp32"}
    unknown = args.precisions - {"fp32", "int8", "bf16"}
    if unknown:
        p.error(f"--precisions: unknown {sorted(unknown)} (fp32, int8, bf16)")
    if "bf16" in args.precisions and not cpu_has_bf16():
        print("compare_pytorch: this CPU has no AVX512-BF16 (no avx512_bf16 in /proc/cpuinfo); "
              "leaving bf16 out")
        args.precisions.discard("bf16")
    return args


def cpu_has_bf16():
    try:
        with open("/proc/cpuinfo") as f:
            return any("avx512_bf16" in line.split() for line in f if line.startswith("flags"))
    except OSError:
        return False


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


def torch_train(model_name, variant, args):
    layout = "channels_last" if variant.endswith("channels_last") else "NCHW"
    bf16 = variant.startswith("bf16")
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
        # Mixed precision as PyTorch documents it: forward and loss under
        # autocast (bf16 convolutions and linear layers), backward outside.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
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
    autocast = variant.startswith("bf16 autocast")
    if variant.startswith("bf16") and not autocast:  # bf16 weights and input
        model = model.to(torch.bfloat16)
        x = x.to(torch.bfloat16)
    if "jit frozen" in variant:
        with torch.no_grad():
            model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, x)))

    def run():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
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
    precisions = ",".join(p for p in ("fp32", "bf16") if p in args.precisions)
    rs = toolkit(args.train_bin, [f"--models={model_name}", "--optimizers=sgd",
                                  f"--precision={precisions}", f"--threads={args.threads}",
                                  f"--steps={args.steps}", f"--warmup={args.warmup}"])["results"]
    expected = parameter_count(model_name)
    for r in rs:
        if r["parameters"] != expected:
            sys.exit(f"{model_name}: toolkit has {r['parameters']} parameters, PyTorch {expected}; "
                     "the models differ")
    return {f"toolkit {r['precision']}": r["images_per_second"] for r in rs}


def toolkit_infer(model_name, args):
    precisions = ["fp32", "fp32_fused"]
    if "int8" in args.precisions:
        precisions.append("int8")
    if "bf16" in args.precisions:
        precisions += ["bf16", "bf16_fused"]
    rs = toolkit(args.infer_bin, [f"--models={model_name}", f"--precisions={','.join(precisions)}",
                                  f"--threads={args.threads}", f"--passes={args.passes}",
                                  f"--warmup={args.warmup}"])["results"]
    return {f"toolkit {r['precision']}": r["images_per_second"] for r in rs}


TORCH_TRAIN = ["fp32 NCHW", "fp32 channels_last", "bf16 autocast channels_last"]
TORCH_INFER = ["fp32 NCHW", "fp32 channels_last", "fp32 jit frozen channels_last",
               "int8 NCHW", "int8 channels_last", "bf16 autocast channels_last",
               "bf16 channels_last", "bf16 jit frozen channels_last"]


def torch_variants(variants, args):
    """The variants of the precisions measured."""
    return [v for v in variants if v.split()[0] in args.precisions]


def measure(args):
    torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    samples = {}  # (mode, model, variant) -> [img/s per round]
    for r in range(args.rounds):
        if r > 0 and args.between_rounds:
            subprocess.run(args.between_rounds, shell=True, check=True)
        for model_name in models:
            for mode in modes:
                # Alternate who goes first from round to round.
                if mode == "train":
                    runs = [lambda: toolkit_train(model_name, args),
                            lambda: {f"torch {v}": torch_train(model_name, v, args)
                                     for v in torch_variants(TORCH_TRAIN, args)}]
                else:
                    runs = [lambda: toolkit_infer(model_name, args),
                            lambda: {f"torch {v}": torch_infer(model_name, v, args)
                                     for v in torch_variants(TORCH_INFER, args)}]
                if r % 2 == 1:
                    runs.reverse()
                for run in runs:
                    for variant, ips in run().items():
                        samples.setdefault((mode, model_name, variant), []).append(ips)
                print(f"round {r + 1}/{args.rounds}: {mode} {model_name} measured", flush=True)
    return models, modes, {k: statistics.median(v) for k, v in samples.items()}, samples


def training_gflop(model_name):
    """GFLOP of one training step: 3x the forward's multiply-adds x 2 (forward,
    backward data, backward weights; the first convolution has no backward
    data, which the toolkit skips), from the PyTorch model's layer shapes."""
    model = build_model(model_name)
    x = torch.zeros(input_shape(model_name))
    macs, first = [], [True]

    def conv_hook(module, inputs, output):
        m = output.numel() * module.in_channels // module.groups * module.kernel_size[0] * \
            module.kernel_size[1]
        macs.append(m if not first[0] else m * 2 / 3)  # no backward data for the first layer
        first[0] = False

    def linear_hook(module, inputs, output):
        macs.append(output.numel() * module.in_features)

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(linear_hook)
    with torch.no_grad():
        model(x)
    return 2 * 3 * sum(macs) / 1e9


def peaks(args):
    """The cores' measured peaks, GFLOP/s: fp32 (AVX-512 FMA), bf16 (AVX512-BF16
    dot products) and amx_bf16 (AMX tiles), those the CPU has."""
    if not args.peak_bin:
        return {}
    r = toolkit(args.peak_bin, [f"--threads={args.threads}"])["results"]
    return {e["unit"]: e["gflops"] for e in r}


def report(models, modes, medians, args, peak):
    rows, ratios, efficiency = [], [], []
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
            if mode == "infer" and "int8" in args.precisions:
                int8 = medians[(mode, model_name, "toolkit int8")]
                ratios.append((mode, model_name, "toolkit int8 / best PyTorch int8 (onednn)",
                               int8 / best("torch int8")))
                ratios.append((mode, model_name, "toolkit int8 / best toolkit fp32",
                               int8 / toolkit_fp32))
            if "bf16" in args.precisions:
                toolkit_bf16 = best("toolkit bf16")
                ratios.append((mode, model_name, "best toolkit bf16 / best PyTorch bf16",
                               toolkit_bf16 / best("torch bf16")))
                ratios.append((mode, model_name, "best toolkit bf16 / best toolkit fp32",
                               toolkit_bf16 / toolkit_fp32))
            if mode == "train":
                gflop = training_gflop(model_name)
                for (m, mn, variant), ips in sorted(medians.items()):
                    if m != mode or mn != model_name:
                        continue
                    gflops = gflop * ips / batch_size(model_name)
                    # bf16 against the fastest bf16 unit there is (oneDNN uses AMX where present).
                    unit = "fp32" if "bf16" not in variant else \
                        "amx_bf16" if "amx_bf16" in peak else "bf16"
                    share = gflops / peak[unit] if unit in peak else None
                    efficiency.append((model_name, variant, gflop, gflops, unit, share))
    print(f"\n| mode | model | batch | implementation | img/s |\n|---|---|---|---|---|")
    for mode, model_name, batch, variant, ips in rows:
        print(f"| {mode} | {model_name} | {batch} | {variant} | {ips:.1f} |")
    print(f"\n| mode | model | ratio | value |\n|---|---|---|---|")
    for mode, model_name, what, value in ratios:
        print(f"| {mode} | {model_name} | {what} | {value:.2f}x |")
    if efficiency:
        print("\n| model | training | GFLOP per step | GFLOP/s | share of the measured peak |\n"
              "|---|---|---|---|---|")
        for model_name, variant, gflop, gflops, unit, share in efficiency:
            where = f"{100 * share:.1f} % of {unit} {peak[unit]:.0f}" if share else "(no --peak_bin)"
            print(f"| {model_name} | {variant} | {gflop:.1f} | {gflops:.0f} | {where} |")
    print(f"\n({args.threads} threads; median over {args.rounds} alternating rounds of the median "
          f"of {args.steps} training steps / {args.passes} inference passes after {args.warmup} "
          f"warm-up; PyTorch {torch.__version__})")
    return rows, ratios, efficiency


def main():
    args = parse_args()
    if torch is None:
        print("compare_pytorch: PyTorch is not installed for this Python "
              f"({sys.executable}); skipping the comparison. Debian: apt-get install python3-torch")
        return 0
    peak = peaks(args)
    models, modes, medians, samples = measure(args)
    rows, ratios, efficiency = report(models, modes, medians, args, peak)
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"threads": args.threads, "rounds": args.rounds, "steps": args.steps,
                       "passes": args.passes, "torch": torch.__version__,
                       "results": [dict(zip(("mode", "model", "batch", "implementation",
                                             "images_per_second"), r)) for r in rows],
                       "ratios": [dict(zip(("mode", "model", "ratio", "value"), r))
                                  for r in ratios],
                       "peak_gflops": peak,
                       "training_efficiency": [
                           dict(zip(("model", "implementation", "gflop_per_step", "gflops",
                                     "peak_unit", "share_of_peak"), e)) for e in efficiency],
                       "per_round": {" | ".join(k): v for k, v in samples.items()}}, f, indent=1)
        print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
