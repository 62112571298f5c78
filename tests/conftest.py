"Test settings shared by every test: offline hub, one torch thread (two threads collapse on a busy core)."
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
try:
    import torch
    torch.set_num_threads(1)
except ImportError: pass
