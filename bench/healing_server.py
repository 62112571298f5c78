"""Token healing through a running llama.cpp server: on held-out cuts of real text (healing_quality.py's sampler,
another seed), the next-8-character match of healed server generation against plain server generation and against
in-process healing, and the time per request healed vs plain, side by side, one request at a time.

The server is llama.cpp's own, in this process (xllamacpp), serving the embedded SmolLM2 GGUF (Q4_1) with one compute
thread; in-process healing runs transformers' SmolLM2 loaded from the same GGUF (dequantised to float32), torch on one
thread. Greedy everywhere. Plain server generation sends the prompt text, as a user does; healed sends the backed-off
ids and a GBNF grammar. The server's prompt cache is off for both, so neither reuses the other's prompt.
Run from the bench dir:  HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python healing_server.py [--per-category 12] [--seed 1]"""
import argparse, gc, os, statistics, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import torch; torch.set_num_threads(1)
import transformers; transformers.utils.logging.set_verbosity_error(); transformers.utils.logging.disable_progress_bar()
from healing_quality import CATS, samples
from tokenlens.healing import healed_generate
from tokenlens.models import load_model, load_tokenizer
from tokenlens.servers import connect, llama_server

N = 8   # characters of the real text to match

def head_match(out:str, prompt:str, truth:str)->tuple:
    "`(consistent, all N characters match, characters matched)` for one output."
    if not out.startswith(prompt): return False, False, 0
    cont = out[len(prompt):]
    k = next((i for i,(a,b) in enumerate(zip(cont, truth[:N])) if a != b), min(len(cont), N))
    return True, k == N, k

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--per-category', type=int, default=12)
    ap.add_argument('--seed', type=int, default=1)   # healing_quality.py's table is seed 0: these cuts are held out
    ap.add_argument('--new', type=int, default=12)
    ap.add_argument('--reps', type=int, default=3)   # timing passes over all prompts
    a = ap.parse_args()
    tok = load_tokenizer('smollm2')
    data = samples(tok, a.per_category, seed=a.seed)
    server = llama_server(n_ctx=1024)
    client = connect(server.listening_address, timeout=60)
    off = {'cache_prompt': False}
    plain = lambda p: p + client.generate(p, a.new, **off).text
    healed = lambda p: healed_generate(client, tok, p, max_new_tokens=a.new, params=off).text
    model = load_model('smollm2')
    local = lambda p: healed_generate(model, tok, p, max_new_tokens=a.new, do_sample=False).text
    ways = {'server, plain': plain, 'server, healed': healed, 'in process, healed': local}
    print(f"SmolLM2-135M, greedy, {a.new} new tokens, {a.per_category} cuts per category (seed {a.seed}), 300-character "
          f"prompts; llama.cpp {client.version} (GGUF Q4_1, 1 thread), torch {torch.__version__} float32 on "
          f"{torch.get_num_threads()} thread")
    res = {w: {c: [] for c in CATS} for w in ways}
    t0 = time.time()
    for cat in CATS:
        for prompt, truth, _ in data[cat]:
            for w,f in ways.items(): res[w][cat].append(head_match(f(prompt), prompt, truth))
    print(f"\n{'cut':24s} " + ' '.join(f"{w:>20s}" for w in ways) + f"   (match of the next {N} characters)")
    for cat in CATS + ['all']:
        rows = {w: [x for c in (CATS if cat == 'all' else [cat]) for x in res[w][c]] for w in ways}
        print(f"{cat:24s} " + ' '.join(f"{statistics.mean(x[1] for x in r):20.3f}" for r in rows.values()))
    for w in ways:
        allr = [x for c in CATS for x in res[w][c]]
        print(f"  {w}: {sum(x[0] for x in allr)}/{len(allr)} outputs start with the prompt; "
              f"{statistics.mean(x[2] for x in allr):.2f} of {N} characters on average")
    print(f"({time.time()-t0:.0f} s)")
    prompts = [p for c in CATS for p,_,_ in data[c]]
    times = {'server, plain': [], 'server, healed': []}
    for f in (plain, healed): f(prompts[0])   # warm up
    for _ in range(a.reps):
        for p in prompts:   # alternating, prompt by prompt: both see the same load
            for w in times:
                t = time.perf_counter(); ways[w](p); times[w].append(time.perf_counter() - t)
    base = statistics.median(times['server, plain'])
    print(f"\ntime per request, {len(prompts)} prompts x {a.reps} passes, alternating, one at a time:")
    for w,v in times.items():
        m, tot = statistics.median(v), sum(v) / len(v)
        print(f"  {w:16s} median {m*1000:6.1f} ms, mean {tot*1000:6.1f} ms   {m/base:5.2f}x plain (median), "
              f"{tot/(sum(times['server, plain'])/len(v)):5.2f}x (mean)")
    del server
    gc.collect()
