"""Healing quality: prompts cut at seeded random places in real text (the Python standard library's source, which
nobody here wrote), continued greedily by SmolLM2 five ways; per cut category, the share of outputs consistent with
the prompt and how much of the next 16 characters of the real text they reproduce.

Ways: no healing; transformers `generate(token_healing=True)`; tokenlens with max_backoff=1 (single token) and
max_backoff=3 (multi-token); and the oracle: the real text's own tokens up to the last token boundary at or before the
cut (what the model would have seen in running text), the upper reference.
Run: python bench/healing_quality.py [--per-category 12] [--new 12]"""
import argparse, os, random, statistics, string, sysconfig, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch; torch.set_num_threads(1)
import transformers; transformers.utils.logging.set_verbosity_error(); transformers.utils.logging.disable_progress_bar()
from tokenlens.models import load_tokenizer, load_model
from tokenlens.core import tokenize, bytes_table
from tokenlens.healing import healed_generate

CATS = ['after multi-byte char', 'inside indentation', 'trailing space', 'mid-word', 'after punctuation', 'token-aligned']

def category(text, c, bounds):
    prev, nxt = text[c-1], text[c]
    line = text[text.rfind('\n', 0, c)+1:c]
    if ord(prev) > 127: return 'after multi-byte char'
    if line and set(line) == {' '} and nxt == ' ': return 'inside indentation'
    if prev == ' ' and text[c-2] != ' ' and nxt != ' ': return 'trailing space'
    if prev.isalnum() and nxt.isalnum(): return 'mid-word'
    if prev in string.punctuation: return 'after punctuation'
    if c in bounds: return 'token-aligned'
    return None

def samples(tok, per_cat, seed=0, ctx=300, target=16):
    root = Path(sysconfig.get_paths()['stdlib'])
    files = sorted(p for p in root.rglob('*.py') if 'test' not in str(p.relative_to(root)) and 'site-packages' not in str(p))
    rng, got = random.Random(seed), {c: [] for c in CATS}
    while any(len(v) < per_cat for v in got.values()):
        text = rng.choice(files).read_text(encoding='utf-8', errors='replace')
        if len(text) < ctx + 100: continue
        for _ in range(40):
            c = rng.randrange(ctx, len(text) - target)
            window = text[c-ctx:c+target]
            t = tokenize(tok, window)
            bounds = {c-ctx+e for _,e in t.spans}
            cat = category(text, c, bounds)
            if cat and len(got[cat]) < per_cat and window.strip():
                oracle_ids = [i for i,(s,e) in zip(t.ids, t.spans) if e <= ctx]
                got[cat].append((window[:ctx], window[ctx:], oracle_ids))
    return got

def match(cont, truth): return next((k for k,(a,b) in enumerate(zip(cont, truth)) if a != b), min(len(cont), len(truth)))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--per-category', type=int, default=12); ap.add_argument('--new', type=int, default=12)
    a = ap.parse_args()
    tok, model = load_tokenizer('smollm2'), load_model('smollm2')
    table = bytes_table(tok)
    def text_of(ids): return b''.join(table[i] for i in ids if i not in table.special).decode(errors='replace')
    def plain(p, _):
        ids = tok(p)['input_ids']
        out = model.generate(torch.tensor([ids]), max_new_tokens=a.new, do_sample=False, pad_token_id=tok.pad_token_id)
        return p + text_of(out[0, len(ids):].tolist())
    def hf(p, _):
        enc = tok(p, return_tensors='pt')
        try: out = model.generate(**enc, max_new_tokens=a.new, do_sample=False, token_healing=True, tokenizer=tok, pad_token_id=tok.pad_token_id)
        except Exception: return None
        return text_of(out[0].tolist())
    def ours(k): return lambda p, _: healed_generate(model, tok, p, max_backoff=k, max_new_tokens=a.new, do_sample=False).text
    def oracle(p, ids):
        out = model.generate(torch.tensor([ids]), max_new_tokens=a.new, do_sample=False, pad_token_id=tok.pad_token_id)
        return text_of(out[0].tolist())
    ways = {'no healing': plain, 'transformers token_healing': hf, 'tokenlens, 1 token': ours(1), 'tokenlens, up to 3': ours(3), 'oracle (text tokens)': oracle}
    data = samples(tok, a.per_category)
    t0 = time.time()
    print(f"SmolLM2-135M, greedy, {a.new} new tokens, {a.per_category} cuts per category (seed 0), 300-character prompts; "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'category':24s} {'way':28s} {'consistent':>10s} {'errors':>6s} {'chars of 16':>11s} {'all 16':>7s}")
    for cat in CATS:
        for name, f in ways.items():
            cons = errs = 0; m = []; full = 0
            for prompt, truth, ids in data[cat]:
                out = f(prompt, ids)
                if out is None: errs += 1; m.append(0); continue
                ok = out.startswith(prompt); cons += ok
                k = match(out[len(prompt):], truth) if ok else 0
                m.append(k); full += k == len(truth)
            n = len(data[cat])
            print(f"{cat:24s} {name:28s} {cons/n:10.0%} {errs:6d} {statistics.mean(m):11.1f} {full/n:7.0%}")
    print(f"({time.time()-t0:.0f} s)")
