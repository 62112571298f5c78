"The `tokenlens` console script as a user runs it: exit statuses, messages, the demo, workers."
import json, os, subprocess
import pytest

ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')

def run(*args):
    return subprocess.run(['tokenlens', *args], capture_output=True, text=True, env=ENV, timeout=300)

def test_demo_audit_reports_every_kind():
    r = run('audit', '--quiet')
    assert r.returncode == 1, r.stderr
    out = r.stdout
    assert 'demo.jsonl · 23 rows · tokenizer smollm2 (embedded HuggingFaceTB/SmolLM2-135M-Instruct) · max_length 256' in out
    for kind in ('bad_row', 'nothing_to_train', 'truncated', 'straddle', 'drift', 'boundary_bias', 'special_text'):
        assert any(l.startswith(kind + ' ') for l in out.splitlines()), kind
    assert "row 21 (line 22, -): bad_row: line 22: malformed JSON" in out

def test_progress_bar_on_stderr():
    r = run('audit', '--limit', '2')
    assert r.returncode == 0 and 'audit: 100%' in r.stderr and '2/2' in r.stderr, r.stderr

def test_clean_file_exits_0_and_bad_rows_exit_1(tmp_path):
    (tmp_path/'clean.jsonl').write_text(json.dumps({'prompt': 'Translate to Spanish: dog\n', 'completion': 'perro'}) + '\n')
    assert run('audit', str(tmp_path/'clean.jsonl'), '--quiet').returncode == 0
    (tmp_path/'mixed.jsonl').write_text('{"prompt": "a\\n", "completion": "b"}\n{"prompt": \n{"prompt": "c\\n", "completion": ["x"]}\n')
    r = run('audit', str(tmp_path/'mixed.jsonl'), '--quiet')
    assert r.returncode == 1
    assert 'row 1 (line 2, -): bad_row: line 2: malformed JSON' in r.stdout
    assert 'row 2 (line 3, prompt_completion): bad_row: completion must be a string, got an array' in r.stdout

@pytest.mark.parametrize('args,message', [
    (['nope.jsonl'], 'nope.jsonl: no such file or directory'),
    (['--format', 'yaml'], "unknown --format 'yaml'"),
    (['--model', 'no/such-model'], "cannot load tokenizer 'no/such-model'"),
    (['--max-length', 'many'], "argument --max-length: invalid int value: 'many'"),
    (['--num-proc', '0'], '--num-proc, --limit and --max-length must be positive'),
])
def test_usage_and_input_errors_exit_2(args, message):
    r = run('audit', *args, '--quiet')
    assert r.returncode == 2 and message in r.stderr, (r.returncode, r.stderr)

def test_empty_and_malformed_files_exit_2(tmp_path):
    (tmp_path/'empty.jsonl').write_text('')
    (tmp_path/'bad.json').write_text('[{"prompt": "a",\n "completion": }]')
    assert 'the file is empty' in run('audit', str(tmp_path/'empty.jsonl')).stderr
    r = run('audit', str(tmp_path/'bad.json'))
    assert r.returncode == 2 and 'malformed JSON at line 2, column 16' in r.stderr

@pytest.mark.slow
def test_workers_agree_with_one_process(tmp_path):
    rows = [json.loads(l) for l in (open(__import__('tokenlens.audit', fromlist=['DEMO']).DEMO).read().splitlines()) if l.endswith('}')]
    (tmp_path/'many.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows * 30))
    one, two = (run('audit', str(tmp_path/'many.jsonl'), '--quiet', '--num-proc', n) for n in ('1', '2'))
    strip = lambda out: [l for l in out.splitlines()[1:]]     # the first line holds the time taken
    assert one.returncode == two.returncode == 1 and strip(one.stdout) == strip(two.stdout)
    assert f'{len(rows) * 30} rows' in one.stdout

def test_spans_subcommand():
    r = run('spans', 'Hi there')
    assert r.returncode == 0 and "'·there'" in r.stdout

def test_a_reader_that_stops_early_gets_no_traceback():
    "`tokenlens audit | head -1`: the summary's first line, and no BrokenPipeError on stderr."
    r = subprocess.run('tokenlens audit --quiet | head -1', shell=True, capture_output=True, text=True, env=ENV, timeout=300)
    assert r.stdout.startswith('tokenlens audit: demo.jsonl'), r.stdout
    assert 'Traceback' not in r.stderr and 'BrokenPipe' not in r.stderr, r.stderr

def test_help_lists_the_commands():
    out = subprocess.run(['tokenlens', '--help'], capture_output=True, text=True, env=ENV).stdout
    assert [l.split()[0] for l in out.splitlines() if l.startswith('  ')] == ['audit', 'spans'], out
