#!/usr/bin/env python3
"""Released Table A1's layout from ptq.json files: every layer, its parameter
count and its 4-bit weight quantization MSE in each model, and W4 accuracy.

  python3 table_a1.py NAME=ptq.json NAME=ptq.json ... > table_a1.md

The first model is the reference the last column compares the last model with
(e.g. start=released_ptq/ResNet82.json sgd=... psgd=...: how much lower PSGD's
MSE is than the start's)."""
import json
import sys


def w4_layers(path):
    with open(path) as f:
        results = json.load(f)["results"]
    fp = next(r for r in results if r["setting"] == "FP")
    w4 = next(r for r in results if r["setting"] == "W4")
    return fp["test_accuracy"], w4["test_accuracy"], {l["name"]: l for l in w4["layers"]}


def main(args):
    if len(args) < 2 or any("=" not in a for a in args):
        sys.exit(__doc__)
    models = [(a.split("=", 1)[0], w4_layers(a.split("=", 1)[1])) for a in args]
    names = list(models[0][1][2])
    print("| layer | parameters | " + " | ".join(f"{n} 4-bit MSE" for n, _ in models) +
          f" | {models[0][0]} / {models[-1][0]} |")
    print("|---|---|" + "---|" * (len(models) + 1))
    for layer in names:
        cells = [f"{m[2][layer]['mse']:.3g}" for _, m in models]
        ratio = models[0][1][2][layer]["mse"] / models[-1][1][2][layer]["mse"]
        print(f"| {layer} | {models[0][1][2][layer]['size']} | " + " | ".join(cells) +
              f" | {ratio:.1f}x |")
    total = sum(models[0][1][2][l]["size"] for l in names)
    means = [sum(m[2][l]["mse"] * m[2][l]["size"] for l in names) / total for _, m in models]
    print(f"| all (size-weighted) | {total} | " + " | ".join(f"{x:.3g}" for x in means) +
          f" | {means[0] / means[-1]:.1f}x |")
    print()
    print("| model | FP test accuracy | W4A32 test accuracy |")
    print("|---|---|---|")
    for name, (fp, w4, _) in models:
        print(f"| {name} | {100 * fp:.2f} % | {100 * w4:.2f} % |")


if __name__ == "__main__":
    main(sys.argv[1:])
