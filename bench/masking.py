"""Masking throughput against the floor: the tokenizer's own batched encode with offsets of the same texts.
Run: python bench/masking.py [--rows 10000]  (TRL comparison: bench/masking_trl.py)"""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch; torch.set_num_threads(1)
from corpus import stdlib_docstrings
from tokenlens.models import load_tokenizer
from tokenlens.masking import mask_rows, MaskSummary

def conversations(n):
    "User/assistant pairs from consecutive docstring paragraphs (real text nobody here wrote), paired (0,1), (2,3), … then (1,2), (3,4), …"
    paras = stdlib_docstrings(10**6)
    pairs = [(k, k+1) for k in range(0, len(paras)-1, 2)] + [(k, k+1) for k in range(1, len(paras)-1, 2)]   # then offset by one
    return [[{'role': 'user', 'content': paras[a]}, {'role': 'assistant', 'content': paras[b]}] for a,b in pairs[:n]]

def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--rows', type=int, default=10000); ap.add_argument('--reps', type=int, default=3)
    a = ap.parse_args()
    convs = conversations(a.rows)
    tok = load_tokenizer('smollm2')
    texts = [tok.apply_chat_template(c, tokenize=False) for c in convs]
    segs = [[{'text': t[:t.rindex(c[1]['content'])], 'label': False}, {'text': t[t.rindex(c[1]['content']):], 'label': True}] for t,c in zip(texts, convs)]
    print(f"{len(convs)} conversations, {sum(map(len, texts))/len(texts):.0f} chars each; torch threads {torch.get_num_threads()}")
    cases = {'floor: tok(texts, return_offsets_mapping=True)': lambda: tok(texts, return_offsets_mapping=True),
             'floor + render: apply_chat_template + encode with offsets': lambda: tok([tok.apply_chat_template(c, tokenize=False) for c in convs], return_offsets_mapping=True),
             'mask_rows, segments (text already rendered)': lambda: mask_rows({'segments': segs}, tok=tok, format='segments'),
             'mask_rows, messages (renders the template)': lambda: mask_rows({'messages': convs}, tok=tok, format='messages')}
    best = {k: float('inf') for k in cases}
    for _ in range(a.reps):
        for k,f in cases.items(): best[k] = min(best[k], timed(f)[0])
    floor = best['floor: tok(texts, return_offsets_mapping=True)']
    for k,v in best.items(): print(f"{v:7.3f} s  {v/floor:5.2f}x  {k}")
    print(MaskSummary(mask_rows({'messages': convs}, tok=tok, format='messages')))
