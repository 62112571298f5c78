"Run every notebook under nbs/ as a test, one pytest case per notebook (the notebooks hold the tests)."
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_nb

NBS = Path(__file__).resolve().parent.parent/'nbs'
notebooks = sorted(p for p in NBS.rglob('*.ipynb') if not any(part.startswith(('.', '_')) for part in p.relative_to(NBS).parts))

@pytest.mark.parametrize('nb', notebooks, ids=[str(p.relative_to(NBS)) for p in notebooks])
def test_notebook(nb):
    ok, secs = run_nb(nb, skip_flags=['notest'], basepath=NBS.parent)
    assert ok, f"{nb.name} failed (see the traceback above)"
