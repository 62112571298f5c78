"""Audit throughput on 10k rows of mixed formats, against the floor: the tokenizer's own batched encode of the same
training texts. Run: python bench/audit.py [--rows 10000] [--reps 3] [--model smollm2|mistral|PATH] [--ray] [--drift]
[--stages]"""
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

def drifting(n):
    "Prompt/completion rows whose prompt ends in a space (`Answer: `), the commonest drift: every row drifts."
    convs = conversations(n)
    return [{'prompt': c[0]['content'] + '\nAnswer: ', 'completion': c[1]['content']} for c in convs]

def stages(tok, data):
    "Time (CPU, one process) spent in each stage of `checks.check_rows` over `data`, by wrapping the stages."
    import tokenlens.checks as C
    spent, names = {}, {'_plan': 'plan rows (chat renders included)', 'encode_batch': 'encode training texts',
                        'spans_batch': 'character spans of the tokens', 'encode_prefixes': 'encode serving prompts (tails)',
                        'label_plans': 'label',
                        'check_row': 'checks (drift, boundary, ...)'}
    def timing(f, name):
        def g(*a, **k):
            t0 = time.process_time()
            try: return f(*a, **k)
            finally: spent[name] = spent.get(name, 0) + time.process_time() - t0
        return g
    kept = {n: getattr(C, n) for n in names}
    for n in names: setattr(C, n, timing(kept[n], n))
    try:
        t0 = time.process_time(); audit(data, tok, max_length=512); total = time.process_time() - t0
    finally:
        for n,f in kept.items(): setattr(C, n, f)
    spent['rest'], names['rest'] = total - sum(spent.values()), 'the rest (batching, results, the report)'
    for n,label in names.items():
        print(f"{spent.get(n, 0):7.3f} s  {spent.get(n, 0)/len(data)*1e6:6.1f} us/row  {label}")
    print(f"{total:7.3f} s  in all")

def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--rows', type=int, default=10000); ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--model', default='smollm2', help='tokenizer: embedded name (smollm2, mistral), hub id or path')
    ap.add_argument('--ray', action='store_true', help='also time engine=ray with two workers on a local Ray')
    ap.add_argument('--drift', action='store_true', help='prompt/completion rows that all drift, instead of mixed rows')
    ap.add_argument('--stages', action='store_true', help='then the CPU time of each stage of one audit')
    a = ap.parse_args()
    tok = load_tokenizer(a.model)
    data = drifting(a.rows) if a.drift else rows(a.rows)
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
    if a.stages: stages(tok, data)
