"""Audit throughput on 10k rows of mixed formats, against the floor: the tokenizer's own batched encode of the same
training texts. Run: python bench/audit.py [--rows 10000] [--reps 3] [--model smollm2|mistral|PATH] [--ray]"""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import torch; torch.set_num_threads(1)
from masking import conversations
from tokenlens.models import load_tokenizer
from tokenlens.audit import audit
from tokenlens.formats import plan_row

def rows(n):
    "A quarter each of messages, alpaca, prompt/completion and `### Response:` text rows, from real docstring pairs."
    convs = conversations(n)
    out = []
    for k,c in enumerate(convs):
        q, a = c[0]['content'], c[1]['content']
        out.append([{'messages': c}, {'instruction': q, 'input': '', 'output': a},
                    {'prompt': q + '\n', 'completion': a}, {'text': f"### Instruction:\n{q}\n\n### Response:\n{a}"}][k % 4])
    return out

def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--rows', type=int, default=10000); ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--model', default='smollm2', help='tokenizer: embedded name (smollm2, mistral), hub id or path')
    ap.add_argument('--ray', action='store_true', help='also time engine=ray with two workers on a local Ray')
    a = ap.parse_args()
    tok = load_tokenizer(a.model)
    data = rows(a.rows)
    texts = [plan_row(tok, r).plan.text for r in data]
    print(f"{a.model}: {len(data)} rows, {sum(map(len, texts))/len(texts):.0f} chars each; "
          f"torch threads {torch.get_num_threads()}, "
          f"TOKENIZERS_PARALLELISM={os.environ['TOKENIZERS_PARALLELISM']}, {os.cpu_count()} CPUs")
    audit(data[:50], tok)   # warm: bytes table, prefix index, compiled chat template
    cases = {'floor: tok(texts) (batched encode of the training texts)': lambda: tok(texts),
             'audit, num_proc=1': lambda: audit(data, tok, max_length=512),
             'audit, num_proc=2': lambda: audit(data, tok, max_length=512, num_proc=2)}
    if a.ray:
        audit(data[:50], tok, engine='ray', num_proc=2)   # start the local Ray and its actors once
        cases['audit, engine=ray, 2 workers (local Ray)'] = lambda: audit(data, tok, max_length=512, engine='ray', num_proc=2)
    best = {k: float('inf') for k in cases}
    for _ in range(a.reps):
        for k,f in cases.items(): best[k] = min(best[k], timed(f)[0])
    floor = best['floor: tok(texts) (batched encode of the training texts)']
    for k,v in best.items(): print(f"{v:7.3f} s  {len(data)/v:9,.0f} rows/s  {v/floor:5.2f}x floor  {k}")
    print(audit(data, tok, max_length=512).summary(5))
