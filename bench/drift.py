"""Drift check throughput against the floor: the tokenizer's own batched encode of the same rows.
Run: python bench/drift.py [--rows 10000]   (results go into nbs/bench.ipynb by hand)"""
import argparse, os, time, statistics
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch; torch.set_num_threads(1)
from corpus import stdlib_docstrings, split_rows
from tokenlens.models import load_tokenizer
from tokenlens.drift import concat_drift_batch, DriftSummary

def best(f, reps=3):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return min(ts)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--rows', type=int, default=10000); ap.add_argument('--reps', type=int, default=3)
    a = ap.parse_args()
    rows = split_rows(stdlib_docstrings(a.rows), seed=0)
    joined = [''.join(r) for r in rows]
    print(f"{len(rows)} rows, {sum(map(len, joined))/len(rows):.0f} chars/row; torch threads {torch.get_num_threads()}; "
          f"TOKENIZERS_PARALLELISM={os.environ.get('TOKENIZERS_PARALLELISM', 'default')}")
    for name in ('smollm2', 'mistral'):
        tok = load_tokenizer(name)
        floor = lambda: tok(joined, add_special_tokens=False)
        check = lambda: concat_drift_batch({'parts': rows}, tok=tok)
        floor(); res = check()  # warm up (bytes table, caches)
        # interleave the two so both see the same machine load
        tf, td = [], []
        for _ in range(a.reps): tf.append(best(floor, 1)); td.append(best(check, 1))
        s = DriftSummary(res)
        print(f"{name:8s} floor {min(tf):.3f} s  drift {min(td):.3f} s  ratio {min(td)/min(tf):.2f}x  "
              f"(drifted rows {len(s.drifted)}/{s.rows}: {s.by_cause})")
