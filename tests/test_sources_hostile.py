"Hostile inputs to `tokenlens.sources` and `tokenlens audit`: read right, or one line that stops the run (exit 2)."
import json, os, subprocess, sys
from pathlib import Path
import pytest
from tokenlens.sources import InputError, read_rows, resolve
try: from tokenlens.cli import main   # the command line's own module, once it has one
except ImportError: from tokenlens.audit import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT/'tokenlens'/'data'/'demo.jsonl'
MAIN = 'import sys\ntry: from tokenlens.cli import main\nexcept ImportError: from tokenlens.audit import main\n'
CLI = [sys.executable, '-c', MAIN + 'sys.exit(main(sys.argv[1:]))']

def run_cli(*args, stdin:bytes=None, env:dict=None):
    "`tokenlens ...` in a fresh process (this checkout's package), with `stdin` piped in."
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'HF_HUB_OFFLINE': '1',
           'TOKENIZERS_PARALLELISM': 'false', **(env or {})}
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, env=env, timeout=600)

def one_line_error(capsys, *args)->str:
    "The one stderr line of `tokenlens audit ARGS --quiet`, checked to exit 2 with no traceback."
    rc = main(['audit', *map(str, args), '--quiet'])
    err = capsys.readouterr().err
    assert rc == 2, (rc, err)
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in err and 'internal error' not in err, err
    return err.strip()

# stdin: `-` and /dev/stdin, JSON Lines or JSON, rows numbered by line, shown as <stdin>
@pytest.mark.slow   # starts the command in a new process
def test_stdin_jsonl_and_json():
    lines = DEMO.read_bytes().splitlines(keepends=True)[:5]
    r = run_cli('audit', '-', '--quiet', '--output', 'json', stdin=b''.join(lines))
    assert r.returncode == 1, r.stderr
    out = [json.loads(l) for l in r.stdout.decode().splitlines()]
    assert out[-1]['dataset'] == '<stdin>' and out[-1]['rows'] == 5
    assert {(o['file'], o['line']) for o in out[:-1]} == {('<stdin>', 3), ('<stdin>', 4), ('<stdin>', 5)}
    rows = [json.loads(l) for l in lines]
    r = run_cli('audit', '/dev/stdin', '--quiet', '--output', 'json', stdin=json.dumps(rows, indent=2).encode())
    assert r.returncode == 1 and json.loads(r.stdout.decode().splitlines()[-1])['rows'] == 5, r.stderr

@pytest.mark.slow   # starts the command in a new process
def test_stdin_empty_is_one_line():
    r = run_cli('audit', '-', '--quiet', stdin=b'')
    assert (r.returncode, r.stderr.decode().strip()) == (2, 'tokenlens audit: error: <stdin>: no rows')

def summary(capsys, *args)->dict:
    "The summary record of `tokenlens audit ARGS --quiet --output json`."
    main(['audit', *map(str, args), '--quiet', '--output', 'json'])
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

# symlinks: two links up (2**40 paths through Python's glob) and a second name for a file: each real file once
def test_symlink_loops_list_each_file_once(tmp_path, capsys):
    d = tmp_path/'d'
    d.mkdir()
    (d/'a.jsonl').write_bytes(DEMO.read_bytes().splitlines(keepends=True)[0])
    for name in ('loop', 'loop2'): (d/name).symlink_to('.')
    (d/'alias.jsonl').symlink_to(d/'a.jsonl')
    for src in (f"{d}/**/*.jsonl", d, f"file://{d}", f"file://{d}/**/*.jsonl", f"{d}/*/*.jsonl"):
        want = 0 if str(src).endswith('*/*.jsonl') and '**' not in str(src) else 1
        if want: assert summary(capsys, src)['rows'] == 1, src
        else: assert 'no .jsonl, .json or .parquet file matches' in one_line_error(capsys, src)

# a folder audit leaves nothing in the datasets cache (load_dataset_builder's lock files went there, never removed)
@pytest.mark.slow   # starts the command in a new process
def test_folder_audit_leaves_no_lock_files(tmp_path):
    shards = tmp_path/'shards'
    shards.mkdir()
    for name in ('train-00000.jsonl', 'test-00000.jsonl'): (shards/name).write_bytes(DEMO.read_bytes())
    (tmp_path/'csv').mkdir()
    (tmp_path/'csv'/'train.csv').write_text('prompt,completion\nHi,Hello\n')
    cache = tmp_path/'hf-datasets'
    for src, split in ((shards, 'test'), (tmp_path/'csv', 'train')):
        r = run_cli('audit', str(src), '--split', split, '--quiet', '--output', 'json',
                    env={'HF_DATASETS_CACHE': str(cache)})
        assert r.returncode in (0, 1), r.stderr
    assert not cache.exists() or not any(cache.rglob('*')), sorted(cache.rglob('*'))

# files that cannot be read: one line naming the file, exit 2, never an internal error (exit 3)
ROWS = b''.join(DEMO.read_bytes().splitlines(keepends=True)[:2]) * 1000

def _compressed(tmp_path, ext:str, cut:bool)->Path:
    import bz2, gzip, lzma
    data = {'.gz': gzip.compress, '.xz': lzma.compress, '.bz2': bz2.compress}[ext](ROWS) if cut else ROWS
    p = tmp_path/f"rows.jsonl{ext}"
    p.write_bytes(data[:len(data) * 2 // 3] if cut else data)
    return p

@pytest.mark.parametrize('ext', ['.gz', '.xz', '.bz2'])
def test_compressed_cut_short(tmp_path, capsys, ext):
    p = _compressed(tmp_path, ext, cut=True)
    assert one_line_error(capsys, p) .startswith(f"tokenlens audit: error: {p}: its {ext} data ends early, ")

@pytest.mark.parametrize('ext', ['.gz', '.xz', '.bz2'])
def test_compressed_in_name_only(tmp_path, capsys, ext):
    p = _compressed(tmp_path, ext, cut=False)
    assert f"{p}: the name says {ext}, but it is not {ext} data" in one_line_error(capsys, p)

@pytest.mark.parametrize('ext, codec, package', [('.zst', 'zstd', 'zstandard'), ('.lz4', 'lz4', 'lz4')])
def test_zst_and_lz4_without_their_packages(tmp_path, capsys, monkeypatch, ext, codec, package):
    import pyarrow as pa
    packed = pa.BufferOutputStream()
    with pa.CompressedOutputStream(packed, codec) as out: out.write(ROWS)
    p = tmp_path/f"rows.jsonl{ext}"
    p.write_bytes(packed.getvalue().to_pybytes())
    assert summary(capsys, p)['rows'] == 2000   # read (by fsspec with the package, else by pyarrow's codec)
    cut = tmp_path/f"cut.jsonl{ext}"
    cut.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2])
    assert f"{cut}: its {ext} data ends early, " in one_line_error(capsys, cut)
    import fsspec.utils, tokenlens.files as F
    monkeypatch.setattr(F, '_ARROW', {})                                       # a pyarrow without the codec,
    monkeypatch.setattr(fsspec.utils, 'infer_compression', lambda name: None)  # and an fsspec without the package
    assert one_line_error(capsys, p).endswith(f"{p}: reading {ext} files needs `pip install {package}`")

def test_parquet_corrupt_inside(tmp_path, capsys):
    import pyarrow as pa, pyarrow.parquet as pq
    p = tmp_path/'rows.parquet'
    table = pa.table({'text': [f"row {k} " * 50 for k in range(2000)]})
    pq.write_table(table, p, compression='snappy', row_group_size=500)
    data = bytearray(p.read_bytes())
    data[len(data) // 2:len(data) // 2 + 4000] = bytes(4000)
    p.write_bytes(bytes(data))
    assert f"{p}:" in one_line_error(capsys, p)

def test_file_name_not_utf8(tmp_path, capsys):
    p = os.fsdecode(os.fsencode(str(tmp_path)) + b'/caf\xe9.jsonl')
    Path(p).write_bytes(b'{"messages": oops}\n' + ROWS[:2000].rsplit(b'\n', 1)[0] + b'\n')
    shown = f"{tmp_path}/caf\\xe9.jsonl"
    for output in ('json', 'sarif'):
        assert main(['audit', p, '--quiet', '--output', output]) == 1
        out = capsys.readouterr().out
        out.encode('utf-8')   # no lone surrogate: the output is valid UTF-8
        got = json.loads(out.splitlines()[0]) if output == 'json' else json.loads(out)
        if output == 'json': where = got['file']
        else: where = got['runs'][0]['results'][0]['locations'][0]['physicalLocation']['artifactLocation']['uri']
        assert where == (shown if output == 'json' else Path(shown).as_uri()), where   # SARIF: a URI reference
    r = run_cli('audit', p, '--quiet', '--output', 'json', env={'PYTHONIOENCODING': 'utf-8:strict'})
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout.decode('utf-8').splitlines()[-1])['dataset'] == 'caf\\xe9.jsonl'
    (tmp_path/'empty.jsonl').write_bytes(b'')
    assert one_line_error(capsys, os.fsdecode(os.fsencode(str(tmp_path)) + b'/nope\xff.jsonl')).endswith(
        f"{tmp_path}/nope\\xff.jsonl: no such file or directory")

# --config/--revision/--data-files with a source datasets does not load: said, not ignored
@pytest.mark.parametrize('opt', [['--config', 'chat'], ['--revision', 'v2'], ['--data-files', 'x.jsonl']])
def test_dataset_options_refused_for_files(tmp_path, capsys, opt):
    (tmp_path/'a.jsonl').write_bytes(ROWS[:4000].rsplit(b'\n', 1)[0] + b'\n')
    for src in (tmp_path/'a.jsonl', f"{tmp_path}/*.jsonl", f"file://{tmp_path}/a.jsonl"):
        err = one_line_error(capsys, src, *opt)
        assert f"{opt[0]} applies only to a Hub dataset id or a dataset folder, and " in err, err
    r = run_cli('audit', '-', '--quiet', *opt, stdin=ROWS[:4000])
    assert r.returncode == 2 and b'and standard input is one stream of rows' in r.stderr, r.stderr

# rows already in Python: a formatted Dataset, a DatasetDict, a DataFrame give the rows a trainer sees
def test_audit_formatted_datasets_and_splits(monkeypatch):
    import datasets, tokenlens.audit as A
    from tokenlens.models import load_tokenizer
    tok = load_tokenizer('smollm2')
    rows = [json.loads(l) for l in DEMO.read_text().splitlines()[:6] if l.startswith('{"messages"')][:3]
    ds = datasets.Dataset.from_list(rows)
    plain = A.audit(ds, tok)
    assert plain.tally.counts['bad_row'] == 0 and len(plain) == len(rows)
    for fmt in ('numpy', 'arrow', 'pandas'):
        assert A.audit(ds.with_format(fmt), tok).tally == plain.tally, fmt
    assert A.audit(ds.to_pandas(), tok).tally == plain.tally
    both = datasets.DatasetDict(train=ds, test=ds.select([0]))
    assert A.audit(both, tok).tally == plain.tally
    assert len(A.audit(both.with_format('numpy'), tok, split='test')) == 1
    with pytest.raises(InputError, match="no split 'dev'; its splits are train, test"): A.audit(both, tok, split='dev')

PEAK = MAIN + ('import resource\nrc = main(sys.argv[1:])\n'
               'print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(rc)')

# one very long row: encoded in pieces (same ids), its spans not built as lists; memory a fraction of what it was
@pytest.mark.slow
@pytest.mark.parametrize('model', ['smollm2', 'mistral'])
def test_one_long_row_memory(tmp_path, model):
    import random
    random.seed(0)
    words = 'the quick brown fox jumps over a lazy dog while tokens are spans over text and models learn 42'.split()
    text = ' '.join(random.choice(words) for _ in range(1_600_000))[:8_000_000]
    row = {'messages': [{'role': 'user', 'content': 'Summarise this.'}, {'role': 'assistant', 'content': text}]}
    (tmp_path/'long.jsonl').write_text(json.dumps(row) + '\n')
    short = {'messages': [row['messages'][0], {'role': 'assistant', 'content': 'Ok.'}]}
    (tmp_path/'short.jsonl').write_text(json.dumps(short) + '\n')
    peaks = []
    for f in ('short.jsonl', 'long.jsonl'):   # each run's own peak, in MB
        args = ['audit', str(tmp_path/f), '--model', model, '--quiet', '--output', 'json']
        env = {**os.environ, 'PYTHONPATH': str(ROOT), 'HF_HUB_OFFLINE': '1'}
        r = subprocess.run([sys.executable, '-c', PEAK, *args], capture_output=True, env=env, timeout=900)
        assert r.returncode == 0, r.stderr
        peaks.append(int(r.stderr.decode().split('maxrss ')[-1]) // 1024)
    assert json.loads(r.stdout.decode().splitlines()[-1])['rows'] == 1
    assert peaks[1] - peaks[0] < 450, peaks   # MB for 8 MB: about 280 (smollm2), 320 (mistral); 780, 600 encoded whole
