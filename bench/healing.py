"""Token healing speed on SmolLM2: healed_generate vs plain generate vs transformers' generate(token_healing=True),
greedy, 10 new tokens, one prompt at a time, alternating the three so they see the same machine load.
Run: python bench/healing.py [--reps 15]"""
import argparse, os, statistics, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch; torch.set_num_threads(1)
import transformers; transformers.utils.logging.set_verbosity_error()
from tokenlens.models import load_tokenizer, load_model
from tokenlens.healing import healed_generate, PrefixIndex
from tokenlens.core import bytes_table

PROMPTS = ['The link is <a href="http:', 'def add(a, b):\n    return a +', 'Say hi ', 'The capital of France is']

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--reps', type=int, default=15); ap.add_argument('--new', type=int, default=10)
    a = ap.parse_args()
    tok, model = load_tokenizer('smollm2'), load_model('smollm2')
    def plain(p):
        enc = tok(p, return_tensors='pt')
        return model.generate(**enc, max_new_tokens=a.new, do_sample=False, pad_token_id=tok.pad_token_id)
    def ours(p): return healed_generate(model, tok, p, max_new_tokens=a.new, do_sample=False)
    failures = {}
    def hf(p):
        enc = tok(p, return_tensors='pt')
        try: return model.generate(**enc, max_new_tokens=a.new, do_sample=False, token_healing=True, tokenizer=tok, pad_token_id=tok.pad_token_id)
        except Exception as e:   # transformers' healing crashes on some prompts; record and time the failure too
            failures[p] = f"{type(e).__name__}: {e}"; return None
    fns = {'plain generate': plain, 'tokenlens healed_generate': ours, 'transformers token_healing=True': hf}
    for f in fns.values():   # warm up
        for p in PROMPTS: f(p)
    times = {k: [] for k in fns}
    for _ in range(a.reps):
        for k,f in fns.items():
            t0 = time.perf_counter()
            for p in PROMPTS: f(p)
            times[k].append(time.perf_counter() - t0)
    base = statistics.median(times['plain generate'])
    print(f"SmolLM2-135M, greedy, {a.new} new tokens, {len(PROMPTS)} prompts per run, {a.reps} runs; torch threads {torch.get_num_threads()}")
    for k,v in times.items():
        m = statistics.median(v)
        print(f"  {k:34s} median {m/len(PROMPTS)*1000:7.1f} ms/prompt   {m/base:5.2f}x plain")
    for name in ('smollm2', 'mistral'):
        t = load_tokenizer(name); bytes_table(t)
        ts = []
        for _ in range(7): t0 = time.perf_counter(); PrefixIndex(t); ts.append(time.perf_counter() - t0)
        print(f"  prefix index build, {name}: {min(ts)*1000:.1f} ms ({len(t)} tokens)")
    for p,e in failures.items(): print(f"  transformers token_healing failed on {p!r}: {e}")
    print("outputs:")
    for p in PROMPTS:
        print(f"  plain  {tok.decode(plain(p)[0], skip_special_tokens=True)!r}")
        print(f"  ours   {ours(p).text!r}")
        h = hf(p)
        print(f"  hf     {tok.decode(h[0], skip_special_tokens=True)!r}" if h is not None else "  hf     (failed)")
