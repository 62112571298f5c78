"""Cold and warm load times of the embedded defaults, each in a fresh process.
Run: python bench/load.py   (uses a fresh temporary cache for the cold run)"""
import os, subprocess, sys, tempfile
code = r'''
import time, sys, torch
torch.set_num_threads(1)
from tokenlens.models import load_tokenizer, load_model
for what, f in [('smollm2 tokenizer', lambda: load_tokenizer('smollm2')), ('mistral tokenizer', lambda: load_tokenizer('mistral')),
                ('smollm2 model', lambda: load_model('smollm2'))]:
    t0 = time.perf_counter(); f(); print(f"{sys.argv[1]:5s} {what}: {time.perf_counter()-t0:.2f} s", flush=True)
'''
if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, TOKENLENS_CACHE=cache, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
        for run in ('cold', 'warm'):
            out = subprocess.run([sys.executable, '-c', code, run], env=env, capture_output=True, text=True)
            print('\n'.join(l for l in out.stdout.splitlines() if l.startswith(run)))
