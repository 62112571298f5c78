"""How fast `server_check` goes against a real llama.cpp server, beside the server's own `/tokenize` throughput for the
same prompts (the limit). Run from the bench dir:  HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python serving.py [--rows N]

The server is llama.cpp's own, in this process (xllamacpp), serving the embedded SmolLM2 GGUF on 127.0.0.1 with one
compute thread (its HTTP threads are llama.cpp's default). Rows: user/assistant pairs of real text (standard-library
docstrings, as in masking.py). For each concurrency N: the server's `/tokenize` alone for each row's prompt text,
`/apply-template` then `/tokenize` (what `server_check` asks of llama.cpp per prompt), and `server_check` itself."""
import argparse, concurrent.futures, gc, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import xllamacpp
from masking import conversations
from tokenlens.formats import render_chat
from tokenlens.models import EMBEDDED, embedded_path, load_tokenizer
from tokenlens.serving import connect, http_json, server_check

def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

def pool_map(f, items, n):
    with concurrent.futures.ThreadPoolExecutor(n) as pool: return list(pool.map(f, items))

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, default=1000)
    ap.add_argument('--concurrency', type=int, nargs='+', default=[1, 2, 4, 8])
    a = ap.parse_args()
    tok = load_tokenizer('smollm2')
    rows = [{'messages': c} for c in conversations(a.rows)]
    prompts = [m['messages'][:1] for m in rows]
    texts = [render_chat(tok, p) for p in prompts]
    p = xllamacpp.CommonParams()
    p.model.path = str(embedded_path('smollm2')/EMBEDDED['smollm2']['file'])
    p.n_ctx, p.cpuparams.n_threads, p.use_jinja, p.verbosity = 512, 1, True, -1
    server = xllamacpp.Server(p)
    client = connect(server.listening_address)
    print(f"{len(rows)} rows (one prompt each), {sum(map(len, texts)) / len(texts):.0f} characters per prompt; "
          f"llama.cpp {client.version}, SmolLM2 GGUF, 1 compute thread, {os.cpu_count()} cores")
    tokenize = lambda t: http_json(client.url + '/tokenize', {'content': t, 'add_special': True, 'parse_special': True})
    both = lambda m: tokenize(http_json(client.url + '/apply-template', {'messages': m})['prompt'])
    rep = server_check(tok, client, rows[:50])   # warm up (tokenizer tables, the stop probe)
    print(f"{'N':>3} {'/tokenize only':>16} {'template+tokenize':>18} {'server_check':>14} {'share':>6}")
    for n in a.concurrency:
        t_tok, _ = timed(lambda: pool_map(tokenize, texts, n))
        t_both, _ = timed(lambda: pool_map(both, prompts, n))
        t_chk, rep = timed(lambda: server_check(tok, client, rows, concurrency=n))
        rates = f"{len(texts)/t_tok:>12.0f} /s {len(rows)/t_both:>14.0f} /s {len(rows)/t_chk:>10.0f} /s"
        print(f"{n:>3} {rates} {t_both/t_chk:>6.0%}")
    print(f"\n{rep!r}")
    print(rep.summary(3))
    del server
    gc.collect()
