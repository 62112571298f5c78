"The linter conventions for CI users: the pre-commit hook (`.pre-commit-hooks.yaml`) and the GitHub Action (`action.yml`)."
import configparser, importlib, json, os, re, shutil, subprocess
from pathlib import Path
import yaml
from tokenlens.checks import DEMO

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TOKENIZERS_PARALLELISM': 'false', 'OMP_NUM_THREADS': '1'}

def console_scripts()->dict:
    "The console scripts settings.ini installs: name -> 'module:function'."
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT/'settings.ini')
    return dict(s.split('=', 1) for s in cfg['DEFAULT']['console_scripts'].split())

def hook()->dict:
    hooks = yaml.safe_load((ROOT/'.pre-commit-hooks.yaml').read_text())
    assert [h['id'] for h in hooks] == ['tokenlens-audit'], hooks
    return hooks[0]

def test_hook_names_an_installed_entry_point():
    "The hook's entry is a console script of the package, pre-commit installs it (language: python) and its function exists."
    h = hook()
    assert h['language'] == 'python' and h['entry'] in console_scripts(), (h, console_scripts())
    mod, fn = console_scripts()[h['entry']].split(':')
    assert callable(getattr(importlib.import_module(mod), fn))

def test_hook_runs_on_dataset_files_only():
    pattern = re.compile(hook()['files'])
    assert all(pattern.search(f) for f in ('train.jsonl', 'data/sft.json', 'shards/part-0.parquet')), pattern
    assert not any(pattern.search(f) for f in ('tokenlens/cli.py', 'README.md', 'data.jsonl.bak')), pattern

def test_hook_runs_on_the_demo(tmp_path, capsys):
    "The hook's entry on staged files, as pre-commit calls it (its args, then the files): the worst exit status."
    h = hook()
    mod, fn = console_scripts()[h['entry']].split(':')
    run = getattr(importlib.import_module(mod), fn)
    shutil.copy(DEMO, tmp_path/'demo.jsonl')
    (tmp_path/'clean.jsonl').write_text('{"prompt": "Translate to Spanish: dog\\n", "completion": "perro"}\n')
    assert run([*h['args'], str(tmp_path/'clean.jsonl')]) == 0
    assert run([*h['args'], str(tmp_path/'clean.jsonl'), str(tmp_path/'demo.jsonl')]) == 1   # the demo has errors
    out = capsys.readouterr().out
    assert out.count('tokenlens audit: ') == 3 and 'tokenlens audit: demo.jsonl · 23 rows' in out, out

def action()->dict:
    a = yaml.safe_load((ROOT/'action.yml').read_text())
    assert a['runs']['using'] == 'composite' and a['inputs']['files']['required'], a
    return a

def step(name:str)->dict:
    return next(s for s in action()['runs']['steps'] if s['name'] == name)

def test_action_uploads_sarif_to_code_scanning():
    up = step('Upload SARIF')
    assert up['uses'].startswith('github/codeql-action/upload-sarif@'), up
    assert up['with']['sarif_file'] == '${{ inputs.sarif }}' and "steps.audit.outputs.status != '2'" in up['if'], up
    used = set(re.findall(r'inputs\.(\w[\w-]*)', json.dumps(action()['runs'])))
    assert used <= set(action()['inputs']), used - set(action()['inputs'])
    assert all('${{' not in s.get('run', '') for s in action()['runs']['steps']), 'inputs reach scripts as env, not inline'

def test_action_audit_step_writes_sarif_on_the_demo(tmp_path):
    "The action's audit script, run as the runner runs it: a SARIF 2.1.0 log of the demo's findings, and status 1."
    audit = step('Audit')
    out = tmp_path/'github_output'
    env = {**ENV, 'FILES': str(DEMO), 'MODEL': 'smollm2', 'ARGS': '--max-length 256', 'SARIF': str(tmp_path/'t.sarif'),
           'GITHUB_OUTPUT': str(out)}
    subprocess.run(['bash', '-e', '-c', audit['run']], env=env, cwd=tmp_path, check=True, timeout=600)
    assert out.read_text().strip() == 'status=1'
    log = json.loads((tmp_path/'t.sarif').read_text())
    assert log['version'] == '2.1.0' and log['runs'][0]['results'], log
    assert {r['ruleId'] for r in log['runs'][0]['results']} >= {'bad_row', 'drift', 'straddle'}
