"Run every notebook under nbs/ as a test, one pytest case per notebook (the notebooks hold the tests)."
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_nb

NBS = Path(__file__).resolve().parent.parent/'nbs'
notebooks = sorted(p for p in NBS.rglob('*.ipynb') if not any(part.startswith(('.', '_')) for part in p.relative_to(NBS).parts))
# Left out of the quick tier (`pytest -m "not slow"`): notebooks that load and run a model, train, run TRL, or run the
# command line many times. Cells flagged `#| slow` (Ray) are left out of the quick tier too: `quick` below.
SLOW = {'01c_servers.ipynb', '04_healing.ipynb', 'tutorials/token_healing.ipynb', 'tutorials/masking_finetune.ipynb', '01_models.ipynb',
        '05a_compare.ipynb', '05b_serving.ipynb', '07_cli.ipynb'}

def name(p): return str(p.relative_to(NBS))

def quick(config)->bool:
    "Whether this run is the quick tier: `-m` leaves out slow tests."
    return 'not slow' in (config.getoption('markexpr') or '')

@pytest.mark.parametrize('nb', [pytest.param(p, marks=pytest.mark.slow) if name(p) in SLOW else p for p in notebooks],
                         ids=[name(p) for p in notebooks])
def test_notebook(nb, request):
    ok, secs = run_nb(nb, skip_flags=['notest'] + (['slow'] if quick(request.config) else []), basepath=NBS.parent)
    assert ok, f"{nb.name} failed (see the traceback above)"
