"""Write README.md from nbs/index.ipynb without Quarto: hidden cells and `#|` directives dropped, outputs kept.
`python .ci/readme.py --check` fails if README.md is out of date; `--test-command` prints the README's test command."""
import sys, copy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def readme_text():
    import nbformat
    from nbconvert import MarkdownExporter
    nb = nbformat.read(ROOT/'nbs'/'index.ipynb', as_version=4)
    cells = []
    for c in nb.cells:
        lines = c.source.splitlines()
        if c.cell_type == 'code':
            if any(l.strip().replace(' ', '') in ('#|hide', '#|exporti') for l in lines): continue
            c = copy.deepcopy(c)
            c.source = '\n'.join(l for l in lines if not l.lstrip().startswith('#|')).strip()
            c.outputs = [o for o in c.outputs if o.output_type == 'stream' or 'text/plain' in o.get('data', {})]
            for o in c.outputs:
                if 'data' in o: o['data'] = {'text/plain': o['data']['text/plain']}
        cells.append(c)
    nb.cells = cells
    body, _ = MarkdownExporter().from_notebook_node(nb)
    head = "<!-- Generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file. -->\n\n"
    return head + body.strip() + '\n'

def test_command()->str:
    "The README's test command: the quick start's line that ends in `pytest`."
    lines = [l for l in (ROOT/'README.md').read_text().splitlines() if l.startswith('pip install') and l.endswith('&& pytest')]
    if len(lines) != 1: sys.exit(f"README.md should have one test command ending in '&& pytest', found {lines}")
    return lines[0]

if __name__ == '__main__':
    if '--test-command' in sys.argv: sys.exit(print(test_command()))
    new = readme_text()
    if '--check' in sys.argv:
        if (ROOT/'README.md').read_text() != new:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python .ci/readme.py`")
    else: (ROOT/'README.md').write_text(new)
