"""Audit at scale: throughput (rows/s) and peak memory of `tokenlens audit FILE --output json` on 10k, 100k and 1M
generated rows, with one and two processes and on a local Ray with two workers, against the floor (the tokenizer's own
batched encode of the same training texts, a chunk at a time). Each run is a fresh `tokenlens audit` process; its
peak memory is the largest sum of RSS over its process tree, sampled every 50 ms (for Ray that tree includes the
local cluster Ray starts: its raylet, GCS and actors). "Ray, running" connects to a cluster started once with
`ray start --head --num-cpus 2` (its processes are not in the run's tree, so no peak is shown for it).
Run: python bench/scale.py [--rows 10000 100000 1000000] [--no-ray]"""
import argparse, hashlib, json, os, subprocess, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('OMP_NUM_THREADS', '1')
from pathlib import Path
import psutil
import torch; torch.set_num_threads(1)
from audit import rows as mixed_rows
from tokenlens.models import load_tokenizer
from tokenlens.formats import plan_row

DATA = Path(os.environ.get('TOKENLENS_BENCH_DATA', '/tmp/tokenlens-bench'))

def data_file(n:int)->Path:
    "A JSON Lines file of `n` mixed-format rows (built once, then reused); the pattern of 10k real docstring rows repeats."
    p = DATA/f'rows-{n}.jsonl'
    if not p.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        base = [json.dumps(r, ensure_ascii=False) for r in mixed_rows(min(n, 10000))]
        with open(p.with_suffix('.tmp'), 'w') as f:
            for k in range(n): f.write(base[k % len(base)] + '\n')
        p.with_suffix('.tmp').rename(p)
    return p

def floor(tok, path:Path, chunk:int=10000)->float:
    "Seconds `tok(texts)` takes on the training texts of every row of `path`, a chunk at a time (planning not timed)."
    t, batch = 0.0, []
    def run():
        texts = [plan_row(tok, json.loads(l)).plan.text for l in batch]
        t0 = time.perf_counter(); tok(texts); return time.perf_counter() - t0
    with open(path) as f:
        for line in f:
            batch.append(line)
            if len(batch) == chunk: t += run(); batch = []
    return t + (run() if batch else 0.0)

def run_audit(path:Path, *args)->dict:
    "Wall time, peak RSS of the process tree, and a digest of the JSON output of one `tokenlens audit` run."
    out = path.with_suffix(f".{'-'.join(a.strip('-') for a in args) or 'one'}.out")
    cmd = [sys.executable, '-c', 'import sys; from tokenlens.cli import main; sys.exit(main())', 'audit', str(path),
           '--max-length', '512', '--output', 'json', '--quiet', *args]
    t0, peak = time.perf_counter(), 0
    with open(out, 'w') as f: p = psutil.Popen(cmd, stdout=f, stderr=subprocess.PIPE, text=True)
    while p.poll() is None:
        try: peak = max(peak, sum(q.memory_info().rss for q in [p, *p.children(recursive=True)]))
        except psutil.Error: pass
        time.sleep(0.05)
    secs, err = time.perf_counter() - t0, p.stderr.read()
    if p.returncode not in (0, 1): raise SystemExit(f"{cmd} failed ({p.returncode}): {err}")
    lines = out.read_text().splitlines()
    return dict(seconds=secs, peak_mb=peak / 2**20, digest=hashlib.sha256('\n'.join(sorted(lines)).encode()).hexdigest()[:12],
                summary=json.loads(lines[-1]))

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, nargs='+', default=[10000, 100000, 1000000])
    ap.add_argument('--no-ray', action='store_true')
    ap.add_argument('--only', help="time only the engines whose name has this in it (e.g. ray), without the floor")
    a = ap.parse_args()
    tok = load_tokenizer('smollm2')
    print(f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    engines = {'1 process': (), '2 processes': ('--num-proc', '2')}
    if not a.no_ray:
        engines['Ray, 2 workers'] = ('--engine', 'ray', '--num-proc', '2')   # starts a local Ray each run, as a first user does
        engines['Ray, running'] = ('--engine', 'ray', '--num-proc', '2', '--address', 'auto')   # a cluster already up (`ray start --head`)
    if a.only: engines = {k: v for k,v in engines.items() if a.only.lower() in k.lower()}
    results = {}
    for n in a.rows:
        path = data_file(n)
        fl = float('nan') if a.only else floor(tok, path)
        print(f"\n{n:,} rows ({path.stat().st_size / 2**20:,.0f} MB): floor tok(texts) {fl:.1f} s, {n / fl:,.0f} rows/s")
        for name, args in engines.items():
            if name == 'Ray, running': subprocess.run(['ray', 'start', '--head', '--num-cpus', '2', '--include-dashboard', 'false'], check=True, capture_output=True)
            try: r = results[n, name] = run_audit(path, *args)
            finally:
                if name == 'Ray, running': subprocess.run(['ray', 'stop'], capture_output=True)
            print(f"  {name:<15} {r['seconds']:7.1f} s  {n / r['seconds']:7,.0f} rows/s  {r['seconds'] / fl:5.2f}x floor  "
                  f"peak {r['peak_mb']:6,.0f} MB  output {r['digest']}  rows {r['summary']['rows']:,}  exit {r['summary']['exit_code']}")
        if a.only: continue
        one, two = results[n, '1 process']['seconds'], results[n, '2 processes']['seconds']
        print(f"  scaling 1 -> 2 processes: {one / two:.2f}x" + ('' if a.no_ray else
              f"; Ray / 2 processes: {results[n, 'Ray, 2 workers']['seconds'] / two:.2f}x, on a running cluster {results[n, 'Ray, running']['seconds'] / two:.2f}x"))
        print(f"  identical JSON output on every engine: {len({results[n, e]['digest'] for e in engines}) == 1}")
