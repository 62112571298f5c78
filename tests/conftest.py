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

import importlib.util, shutil
import pytest

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'

@pytest.fixture(scope='session')
def chromium_launch():
    "Keyword arguments for Playwright's `chromium.launch`: Debian's Chromium, headless and cut off from the network."
    for ok, why in ((importlib.util.find_spec('playwright') is not None, 'playwright is not installed (pip install playwright)'),
                    (os.path.exists(CHROMIUM), 'chromium is not installed (apt-get install chromium)')):
        if ok: continue
        if os.environ.get('CI'): pytest.fail(why)   # .ci/run installs both: missing tooling there is a failure
        pytest.skip(why)
    return dict(executable_path=CHROMIUM, args=['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                                                '--disable-background-networking', '--disable-component-update', '--disable-sync'])
