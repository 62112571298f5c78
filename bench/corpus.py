"Real text nobody on this project wrote: docstrings from the Python standard library installed on this machine."
import ast, random, sysconfig
from pathlib import Path

def stdlib_docstrings(limit=20000, min_chars=40):
    "Paragraphs of docstrings of modules, classes and functions in the standard library, in a stable order."
    root = Path(sysconfig.get_paths()['stdlib'])
    out = []
    for f in sorted(root.rglob('*.py')):
        rel = f.relative_to(root).parts
        if rel[0] in ('site-packages', 'test', 'idlelib', 'lib2to3') or any(p.startswith('test') for p in rel): continue
        try: tree = ast.parse(f.read_text(encoding='utf-8'))
        except Exception: continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                d = ast.get_docstring(node, clean=True) or ''
                out += [para for para in d.split('\n\n') if len(para) >= min_chars]
        if len(out) >= limit: break
    return out[:limit]

def split_rows(texts, seed=0, parts=2):
    "Each text cut into `parts` pieces at seeded word boundaries (prompt/completion-like rows)."
    rng = random.Random(seed)
    rows = []
    for t in texts:
        spaces = [i for i,c in enumerate(t) if c == ' ']
        cuts = sorted(rng.sample(spaces, min(parts-1, len(spaces))))
        pieces, prev = [], 0
        for c in cuts: pieces.append(t[prev:c]); prev = c
        pieces.append(t[prev:])
        rows.append(pieces)
    return rows
