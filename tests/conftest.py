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


GROUPED = 'test_site.py::'   # a module whose tests are all marked xdist_group('site')

def pytest_xdist_node_collection_finished(node, ids):
    "Stop where `--dist loadgroup` does not group (pytest 9.2 with pytest-xdist 3.8: pytest-xdist#1386)."
    lost = [i for i in ids if GROUPED in i and '@' not in i]
    if lost and node.config.getoption('dist', None) == 'loadgroup':
        raise pytest.UsageError(f"pytest-xdist's --dist loadgroup did not group the tests (e.g. {lost[0]}): each "
                                "worker would build the site and start Ray itself. pytest 9.2 does this with "
                                "pytest-xdist 3.8 (pytest-xdist#1386); install pytest<9.2, as the dev extra pins it.")
