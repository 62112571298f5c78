"Checks on the package layout that the notebooks cannot hold."
import configparser, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_distribution_name_is_tokenlens_kit():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    assert cfg['DEFAULT']['lib_name'] == 'tokenlens-kit'
    assert cfg['DEFAULT']['lib_path'] == 'tokenlens'

def test_install_lines_name_tokenlens_kit():
    "No install line anywhere tells a user to `pip install tokenlens` (an unrelated PyPI project)."
    files = [ROOT/'README.md', *ROOT.glob('nbs/**/*.ipynb'), *ROOT.glob('.github/workflows/*')]
    bad = [str(f) for f in files if 'pip install tokenlens ' in f.read_text() or 'pip install -Uqq tokenlens\\n' in f.read_text()]
    assert not bad, bad

def test_import_is_light():
    "`import tokenlens.core` must not pull in torch (it is for tokenizers only)."
    code = "import sys, tokenlens.core, tokenlens.render, tokenlens.models; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == 'False'

def test_cli_prints_spans():
    out = subprocess.run(['tokenlens-spans', 'Hi there'], capture_output=True, text=True, check=True).stdout
    assert "'·there'" in out and out.splitlines()[0].split()[:2] == ['#', 'id']
