"""Load times of the embedded defaults, and how fast a name that cannot load fails, each in a fresh process.
Run: python bench/load.py   (a fresh temporary cache for the cold run; nothing leaves this machine)"""
import os, subprocess, sys, tempfile
code = r'''
import time, sys, torch
torch.set_num_threads(1)
from tokenlens.models import load_tokenizer, load_model
for what, f in [('smollm2 tokenizer', lambda: load_tokenizer('smollm2')), ('mistral tokenizer', lambda: load_tokenizer('mistral')),
                ('smollm2 model', lambda: load_model('smollm2'))]:
    t0 = time.perf_counter(); f(); print(f"{sys.argv[1]:5s} {what}: {time.perf_counter()-t0:.2f} s", flush=True)
'''
# A machine without torch: every `import torch` fails; the SmolLM2 tokenizer is read out of its GGUF with `gguf`.
no_torch = r'''
import sys, time
sys.modules['torch'] = None
t0 = time.perf_counter()
from tokenlens.models import load_tokenizer
load_tokenizer('smollm2')
print(f"no-torch smollm2 tokenizer, built from the GGUF (import included): {time.perf_counter()-t0:.2f} s")
'''
# A mistyped name: offline, and online with no way to the hub (a closed loopback port refuses at once).
typo = r'''
import sys, time
from tokenlens.models import load_tokenizer, NotLoadable
t0 = time.perf_counter()
try: load_tokenizer('smollm')
except NotLoadable: print(f"{sys.argv[1]}: 'smollm' fails in {time.perf_counter()-t0:.3f} s")
'''

def run(src, env, *args):
    out = subprocess.run([sys.executable, '-c', src, *args], env=env, capture_output=True, text=True)
    return [l for l in out.stdout.splitlines() if l.strip()] or [out.stderr[-500:]]

if __name__ == '__main__':
    base = {k: v for k,v in os.environ.items() if 'proxy' not in k.lower() and k not in ('HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE')}
    base.update(OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')
    with tempfile.TemporaryDirectory() as cache:
        env = dict(base, TOKENLENS_CACHE=cache, HF_HUB_OFFLINE='1')
        for r in ('cold', 'warm'): print('\n'.join(l for l in run(code, env, r) if l.startswith(r)))
    with tempfile.TemporaryDirectory() as cache: print('\n'.join(run(no_torch, dict(base, TOKENLENS_CACHE=cache, HF_HUB_OFFLINE='1'))))
    print('\n'.join(run(typo, dict(base, HF_HUB_OFFLINE='1'), 'offline (HF_HUB_OFFLINE=1)')))
    print('\n'.join(run(typo, dict(base, HF_ENDPOINT='http://127.0.0.1:9'), 'hub unreachable (closed port)')))
