# Issue 17's accuracy table (README.md here): quickstart/ (the quickstart recipe, seeds 1-3) and
# epochs20/ (20 epochs), fp32 against bf16. Run from this directory: python3 table.py
import json, os, statistics as st
def qmse(d):
    lines = [json.loads(l) for l in open(d + '/metrics.jsonl')]
    keys = [k for k in lines[0] if k.startswith('qmse/') and k.endswith('.weight')]
    return st.mean(lines[0][k] for k in keys), st.mean(lines[-1][k] for k in keys)
print('| precision | seed | SGD test acc | PSGD@W4 test acc | mean 4-bit qMSE of the weights, start -> end (ratio) |')
print('|---|---|---|---|---|')
agg = {}
for p in ['fp32', 'bf16']:
    for s in [1, 2, 3]:
        d = f'quickstart/{p}/seed{s}'
        a = json.load(open(d + '/sgd/result.json')); b = json.load(open(d + '/psgd/result.json'))
        q0, q1 = qmse(d + '/psgd')
        agg.setdefault(p, []).append((100 * a['final_test_accuracy'], 100 * b['final_test_accuracy'], q0 / q1))
        print(f"| {p} | {s} | {100*a['final_test_accuracy']:.2f} | {100*b['final_test_accuracy']:.2f} | {q0:.3g} -> {q1:.3g} ({q0/q1:.2f}x) |")
for p, v in agg.items():
    col = list(zip(*v))
    print(f"| {p} | mean ± sd | {st.mean(col[0]):.2f} ± {st.stdev(col[0]):.2f} | {st.mean(col[1]):.2f} ± {st.stdev(col[1]):.2f} | ratio {st.mean(col[2]):.2f}x ± {st.stdev(col[2]):.2f} |")
print()
for p in ['fp32', 'bf16']:
    f = f'epochs20/{p}/result.json'
    if os.path.exists(f):
        r = json.load(open(f)); print(f"20 epochs {p}: final {100*r['final_test_accuracy']:.2f} %, best {100*r['best_test_accuracy']:.2f} %")
