"Test settings shared by every test: offline hub, one torch thread (two threads collapse on a busy core)."
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
try:
    import torch
    torch.set_num_threads(1)
except ImportError: pass
try:   # property tests draw the same examples on every run, so a CI result does not depend on luck
    from hypothesis import settings
    settings.register_profile('tokenlens', derandomize=True, deadline=None)
    settings.load_profile('tokenlens')
except ImportError: pass
