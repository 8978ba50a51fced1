#!/usr/bin/python3
"""//experiments:export_onnx on a trained ResNet-20, checked by ONNX's checker
and ONNX Runtime against the toolkit on real CIFAR-10 test images.

ResNet-20 is trained here for 128 steps of 128 images (one thread; about 40 %
test accuracy, so that predictions have margins of every size). Every
exported variant must pass onnx.checker.check_model (full check) at opset 13
and run in ONNX Runtime (onnxruntime-node, default graph optimizations). Its
logits are compared with the toolkit's own on the same images, which
export_onnx writes with --reference_dir (the model //experiments:ptq
evaluates at the same flags; checked below against ptq's own accuracies):

  fp32 (also BN folded)    256 images, max |logit difference| <= 1e-4;
  quantized weights        1,024 images (ptq's first 8 batches): predictions equal on >= 99.5 %,
                           accuracy within 0.2 points; and, the integer
                           weights and scales being exact, max |difference|
                           <= 1e-4;
  + quantized activations  1,024 images: predictions equal on >= 99.5 %,
                           accuracy within 0.2 points, and mean |difference|
                           at most half of what the activation quantizers
                           change (so a missing or misscaled quantizer fails;
                           the agreement bound alone cannot see that at 8
                           bits, where the quantizers change few predictions).

The integer weights of every quantized file are recomputed from the fp32
file's weights with numpy (ptq's protocol: restricted symmetric grid from the
exact max, per tensor or per output channel, half-to-even rounding, first
conv and last linear layer at 8 bits below 4 bits) and must equal the file's
codes and scales exactly.

Data: CIFAR-10 from ~/.cache/psg-toolkit/data (tools/get_cifar10.sh), else
extracted from ../shared/data/cifar-10-binary.tar.xz; with neither, the test
says so and passes (skips).

    onnx_cifar_test.py TRAIN EXPORT_ONNX PTQ ONNX_RUN_JS GET_CIFAR10 BUILD_FILE
"""

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop"))
import onnx_testing as t  # noqa: E402

CIFAR10_FILES = ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]
CIFAR10_FILE_BYTES = 30730000
TRAIN_FLAGS = ["--model=resnet20", "--dataset=cifar10", "--epochs=1", "--max_train_images=16384",
               "--schedule=onecycle", "--lr=0.1", "--checkpoint_every_steps=0", "--max_eval_images=256",
               "--progress_every=100"]
# name, export flags, test images, weights-only variant the activations are measured against
VARIANTS = [
    ("fp32", [], 256, None),
    ("fp32_fold_bn", ["--fold_bn"], 256, None),
    ("w8", ["--bits=8"], 1024, None),
    ("w4_tensor", ["--bits=4"], 1024, None),
    ("w4_channel", ["--bits=4", "--granularity=channel"], 1024, None),
    ("w2", ["--bits=2"], 1024, None),
    ("w8a8", ["--bits=8", "--act_bits=8"], 1024, "w8"),
    ("w4a8_tensor", ["--bits=4", "--act_bits=8"], 1024, "w4_tensor"),
    ("w4a8_channel", ["--bits=4", "--granularity=channel", "--act_bits=8"], 1024, "w4_channel"),
    ("w4a4", ["--bits=4", "--act_bits=4"], 1024, "w4_tensor"),
    ("w8a8_channel_fold_bn", ["--bits=8", "--granularity=channel", "--act_bits=8", "--fold_bn"], 1024, None),
]
# ptq runs whose accuracies the references must reproduce: flags, {ptq setting: variant}
PTQ_RUNS = [
    (["--bits=8,4,2"], {"W8": "w8", "W4": "w4_tensor", "W2": "w2"}),
    (["--bits=4", "--granularity=channel", "--act_bits=8"], {"W4A8": "w4a8_channel"}),
]
EXACT = 1e-4
MIN_AGREEMENT = 0.995
MAX_ACCURACY_DELTA = 0.002
ACTIVATION_SHARE = 0.5
FOLDED_ACCURACY_DELTA = 0.01


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cifar10_dir(get_cifar10, build_file, tmp):
    """A --data_dir holding cifar-10-batches-bin, or None."""
    cached = os.path.join(t.cache_dir(), "data")
    batches = os.path.join(cached, "cifar-10-batches-bin")
    if all(os.path.isfile(os.path.join(batches, f)) and
           os.path.getsize(os.path.join(batches, f)) == CIFAR10_FILE_BYTES for f in CIFAR10_FILES):
        return cached
    shared = os.path.join(os.path.dirname(t.workspace_dir(build_file)), "shared", "data",
                          "cifar-10-binary.tar.xz")
    if not os.path.isfile(shared):
        return None
    dest = os.path.join(tmp, "data")
    subprocess.run(["bash", get_cifar10, "--dest", dest, "--src", shared], check=True, stdout=subprocess.DEVNULL)
    return dest


def expected_quantization(float_model, folded):
    """ptq's coverage on a float ONNX file: every Conv weight (and bias unless
    BN is folded: folded biases stay float), the last Gemm's weight and bias;
    the first conv and last Gemm are the edge layers."""
    convs = [n for n in float_model.graph.node if n.op_type == "Conv"]
    gemms = [n for n in float_model.graph.node if n.op_type == "Gemm"]
    covered = []
    for n in convs:
        covered += [n.input[1]] + ([n.input[2]] if len(n.input) > 2 and not folded else [])
    last = list(gemms[-1].input[1:])
    return covered + last, {convs[0].input[1]} | set(last)


def integer_weight_failures(name, quant_path, float_path, bits, per_channel, folded):
    """Recomputes the file's integer weights and scales from the float file's
    weights by ptq's protocol; returns what differs."""
    quant_model, float_model = onnx.load(quant_path), onnx.load(float_path)
    q, f = t.initializers(quant_model), t.initializers(float_model)
    covered, edges = expected_quantization(float_model, folded)
    found = sorted(n[:-len("_quantized")] for n in q if n.endswith("_quantized"))
    failures = []
    if found != sorted(covered):
        failures.append(f"{name}: quantized tensors {found}, ptq covers {sorted(covered)}")
    for tensor in covered:
        if tensor + "_quantized" not in q:
            continue
        b = 8 if bits < 4 and tensor in edges else bits
        qmax = np.float32(2 ** (b - 1) - 1)
        w = f[tensor].astype(np.float32)
        rows = w.reshape(w.shape[0], -1) if per_channel and w.ndim > 1 else w.reshape(1, -1)
        top = np.abs(rows).max(axis=1)
        step = np.where(top > 0, top / qmax, np.float32(1)).astype(np.float32)
        codes = np.clip(np.rint(rows / step[:, None]), -qmax, qmax)
        got_codes = q[tensor + "_quantized"]
        got_step = q[tensor + "_scale"].reshape(-1)
        if got_codes.dtype != np.int8 or not np.array_equal(got_codes.reshape(rows.shape), codes):
            failures.append(f"{name}: {tensor}: codes differ from the {b}-bit grid's")
        if not np.array_equal(got_step, step):
            failures.append(f"{name}: {tensor}: scales {got_step[:4]}... differ from {step[:4]}...")
        if not np.all(q[tensor + "_zero_point"] == 0):
            failures.append(f"{name}: {tensor}: nonzero zero points")
    return failures


def main(train, export_onnx, ptq, run_js, get_cifar10, build_file):
    tmp = os.environ.get("TEST_TMPDIR", "/tmp")
    t.onnxruntime_node_path()  # fails early, with the fix, when ONNX Runtime is missing
    data_dir = cifar10_dir(get_cifar10, build_file, tmp)
    if data_dir is None:
        t.skip("CIFAR-10 is not in ~/.cache/psg-toolkit/data and ../shared/data/cifar-10-binary.tar.xz "
               "is absent: put it in place with tools/get_cifar10.sh to run this test")
    common = [f"--data_dir={data_dir}", "--threads=1"]
    started = time.time()
    run_dir = os.path.join(tmp, "r20")
    subprocess.run([train, *TRAIN_FLAGS, *common, f"--output_dir={run_dir}"], check=True,
                   stdout=subprocess.DEVNULL)
    checkpoint = os.path.join(run_dir, "last.safetensors")
    with open(os.path.join(run_dir, "result.json")) as f:
        trained = json.load(f)
    print(f"trained ResNet-20 for {trained['steps']} steps in {time.time() - started:.0f} s "
          f"({children_cpu_seconds():.0f} s CPU): test accuracy {trained['final_test_accuracy']:.2%} on 256 images")

    failures = []
    results = {}
    logits = {}
    for name, flags, images, weights_only in VARIANTS:
        path = os.path.join(tmp, name + ".onnx")
        ref = os.path.join(tmp, "ref_" + name)
        subprocess.run([export_onnx, f"--checkpoint={checkpoint}", f"--output={path}", *flags, *common,
                        f"--reference_dir={ref}", f"--reference_images={images}"], check=True,
                       stdout=subprocess.DEVNULL)
        opset = t.check_model(path)
        want = np.load(os.path.join(ref, "logits.npy"))
        labels = np.load(os.path.join(ref, "labels.npy"))
        got = t.run_onnxruntime(run_js, path, os.path.join(ref, "images.npy"), path + ".ort.npy")
        logits[name] = want
        diff = np.abs(got - want)
        r = {"images": int(len(labels)), "opset": opset, "max_abs_diff": float(diff.max()),
             "mean_abs_diff": float(diff.mean()),
             "agreement": float((got.argmax(1) == want.argmax(1)).mean()),
             "onnx_accuracy": float((got.argmax(1) == labels).mean()),
             "toolkit_accuracy": float((want.argmax(1) == labels).mean())}
        r["accuracy_delta"] = r["onnx_accuracy"] - r["toolkit_accuracy"]
        results[name] = r
        if opset != 13:
            failures.append(f"{name}: opset {opset}, expected 13")
        bits = int(next((f.split("=")[1] for f in flags if f.startswith("--bits=")), "0"))
        folded = "--fold_bn" in flags
        if bits:
            failures += integer_weight_failures(name, path, os.path.join(tmp, "fp32_fold_bn.onnx" if folded else "fp32.onnx"),
                                                bits, "--granularity=channel" in flags, folded)
        if folded and bits:
            # ptq has no folded model: its unfolded one is the yardstick.
            if abs(r["accuracy_delta"]) > FOLDED_ACCURACY_DELTA:
                failures.append(f"{name}: accuracy {r['onnx_accuracy']:.3f} vs ptq's unfolded "
                                f"{r['toolkit_accuracy']:.3f}")
            continue
        if bits == 0 or weights_only is None:
            if r["max_abs_diff"] > EXACT:
                failures.append(f"{name}: max |logit difference| {r['max_abs_diff']:.3g} > {EXACT}")
        if bits:
            if r["agreement"] < MIN_AGREEMENT:
                failures.append(f"{name}: predictions agree on {r['agreement']:.2%} < {MIN_AGREEMENT:.1%}")
            if abs(r["accuracy_delta"]) > MAX_ACCURACY_DELTA:
                failures.append(f"{name}: accuracy {r['onnx_accuracy']:.3f} vs {r['toolkit_accuracy']:.3f}")
        if weights_only:
            effect = float(np.abs(want - logits[weights_only]).mean())
            r["activation_effect"] = effect
            if not r["mean_abs_diff"] <= ACTIVATION_SHARE * effect:
                failures.append(f"{name}: mean |difference| {r['mean_abs_diff']:.3g} > {ACTIVATION_SHARE} * "
                                f"the activation quantizers' effect {effect:.3g}")

    # The references are ptq's models: its accuracies on the same images.
    for flags, settings in PTQ_RUNS:
        out = os.path.join(tmp, "ptq_" + "_".join(f.strip("-").replace("=", "") for f in flags))
        subprocess.run([ptq, f"--checkpoint={checkpoint}", *flags, *common, "--max_eval_images=1024",
                        f"--output_dir={out}"], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "ptq.json")) as f:
            ptq_results = {x["setting"]: x["test_accuracy"] for x in json.load(f)["results"]}
        for setting, variant in settings.items():
            results[variant]["ptq_accuracy"] = ptq_results[setting]
            if abs(ptq_results[setting] - results[variant]["toolkit_accuracy"]) > 1e-6:
                failures.append(f"{variant}: reference accuracy {results[variant]['toolkit_accuracy']:.4f} is not "
                                f"ptq's {setting} accuracy {ptq_results[setting]:.4f} ({' '.join(flags)})")

    print("| variant | images | max abs diff | mean abs diff | activation effect | predictions equal | "
          "ONNX Runtime acc | toolkit acc | delta (points) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        effect = f"{r['activation_effect']:.2e}" if "activation_effect" in r else ""
        print(f"| {name} | {r['images']} | {r['max_abs_diff']:.2e} | {r['mean_abs_diff']:.2e} | {effect} | "
              f"{r['agreement']:.2%} | {r['onnx_accuracy']:.2%} | {r['toolkit_accuracy']:.2%} | "
              f"{100 * r['accuracy_delta']:+.1f} |")
    outputs = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
    if outputs:
        with open(os.path.join(outputs, "onnx_cifar.json"), "w") as f:
            json.dump(results, f, indent=1)
    print(f"total {time.time() - started:.0f} s ({children_cpu_seconds():.0f} s CPU in the commands)")
    if failures:
        t.fail("\n  ".join([""] + failures))
    print("PASSED: every export passes the checker and agrees with the toolkit in ONNX Runtime")


if __name__ == "__main__":
    main(*sys.argv[1:])
