"""Time the drift diffs on large inputs: a 1 MB round trip (exact and lossy) and `compare_ids` on 20,000 tokens with 1%
of the ids changed. Before, these ran difflib on the whole input (quadratic): 40k characters took 11.5 s, 1 MB more than
300 s. Run: python bench/diffs.py"""
import os, random, time
os.environ.setdefault('OMP_NUM_THREADS', '1'); os.environ.setdefault('HF_HUB_OFFLINE', '1')
import inspect
from tokenlens.models import load_tokenizer
from tokenlens.drift import compare_ids, roundtrip

def corpus(n_chars:int)->str:
    "Real text: the standard library's docstrings, repeated up to `n_chars` characters."
    import collections, json, re, statistics, textwrap as tw, argparse, difflib, pathlib
    docs = [inspect.getdoc(o) or '' for m in (collections, json, re, statistics, tw, argparse, difflib, pathlib)
            for _,o in inspect.getmembers(m)]
    text = '\n\n'.join(d for d in docs if d)
    return (text * (n_chars // len(text) + 1))[:n_chars]

def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

if __name__ == '__main__':
    smol = load_tokenizer('smollm2')
    text = corpus(1_000_000)
    s, r = timed(lambda: roundtrip(smol, text))
    print(f"roundtrip, SmolLM2, 1 MB, exact: {s:.2f} s ({len(r.changes)} changes)")
    lossy = text.replace('. ', '.\x16 ')   # SmolLM2's vocabulary has no token for 0x16: the tokenizer drops it
    s, r = timed(lambda: roundtrip(smol, lossy))
    print(f"roundtrip, SmolLM2, 1 MB, lossy: {s:.2f} s ({len(r.changes)} changes, causes {r.causes})")
    ids = smol.encode(corpus(200_000), add_special_tokens=False)[:20_000]
    rng = random.Random(0)
    changed = [i if rng.random() > 0.01 else rng.randrange(1000, 40000) for i in ids]
    s, r = timed(lambda: compare_ids(smol, ids, changed))
    print(f"compare_ids, 20,000 tokens, 1% changed: {s:.2f} s ({len(r.regions)} regions)")
