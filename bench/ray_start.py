"""Ray's fixed cost: what `engine='ray'` pays before it checks a row, on the 23-row demo (so the checking itself is
negligible). Each run is a new process: import Ray, start a local Ray with two CPUs (`ray.init`), audit the demo on
Ray three times (each audit starts its own pool of two actors), then once on one process for comparison.
`--hide rfc3987_syntax` runs the same with that module made unimportable in every process Ray starts (a PYTHONPATH
shim): jsonschema imports it, if installed, for its format checkers, and Ray imports jsonschema in each of its
processes. Each figure is the median run (with two runs, the slower).
Run: python bench/ray_start.py [--runs 2] [--hide rfc3987_syntax]"""
import argparse, json, os, subprocess, sys, tempfile
from pathlib import Path

ONE_RUN = r'''import json, time
t = [time.perf_counter()]
import ray
t.append(time.perf_counter())
from tokenlens.audit import audit, DEMO
from tokenlens.models import load_tokenizer
from tokenlens.engines import _ray_start
tok = load_tokenizer('smollm2')
t.append(time.perf_counter())
_ray_start(2)
t.append(time.perf_counter())
for _ in range(3):
    audit(DEMO, tok, max_length=64, engine='ray', num_proc=2, chunk_size=5)
    t.append(time.perf_counter())
audit(DEMO, tok, max_length=64)
t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))'''

STEPS = ['import ray', 'import tokenlens, load tokenizer', 'ray.init (local, 2 CPUs)', 'audit on Ray, 1st',
         'audit on Ray, 2nd', 'audit on Ray, 3rd', 'audit, one process']

def run(hide:list)->list:
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')
    with tempfile.TemporaryDirectory() as shim:
        for mod in hide:
            (Path(shim)/mod).mkdir()
            (Path(shim)/mod/'__init__.py').write_text(f'raise ImportError("{mod} hidden by bench/ray_start.py")\n')
        if hide: env['PYTHONPATH'] = os.pathsep.join([shim, *filter(None, [env.get('PYTHONPATH')])])
        r = subprocess.run([sys.executable, '-c', ONE_RUN], capture_output=True, text=True, env=env, timeout=600)
    if r.returncode: raise SystemExit(r.stderr[-3000:])
    return json.loads(r.stdout.splitlines()[-1])

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--runs', type=int, default=2)
    p.add_argument('--hide', nargs='*', default=[])
    a = p.parse_args()
    cases = [('as installed', [])] + ([(f"without {', '.join(a.hide)}", a.hide)] if a.hide else [])
    times = {name: [] for name, _ in cases}
    for _ in range(a.runs):   # the cases take turns, so they see the same load
        for name, hide in cases: times[name].append(run(hide))
    print('| step | ' + ' | '.join(name for name, _ in cases) + ' |')
    print('|---|' + '---:|' * len(cases))
    for k, step in enumerate(STEPS):
        mid = [sorted(r[k] for r in times[name])[len(times[name]) // 2] for name, _ in cases]
        print(f'| {step} | ' + ' | '.join(f'{t:.1f} s' for t in mid) + ' |')
