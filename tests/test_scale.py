"Audits of any size: the three engines write the same findings, reading streams, and the report's memory is bounded."
import itertools, json, os, subprocess
from collections import Counter
import pytest
from tokenlens.audit import DEMO, KINDS, audit, audit_batch, report_from_columns
from tokenlens.serving import SERVER_FINDINGS
from tokenlens.sources import read_rows

NEEDS_SERVER = {*SERVER_FINDINGS, 'gguf_tokens', 'gguf_template'}   # kinds only a server or a GGUF file can find

pytestmark = pytest.mark.slow   # the full suite only: Ray and files of thousands of rows

BIG = 2000   # rows of the big file: four batches of the default 500, two for each of two workers

ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false')

def run(*args):
    return subprocess.run(['tokenlens', *args], capture_output=True, text=True, env=ENV, timeout=600)

ONE_PROCESS = '''import json, os, sys
from tokenlens.cli import main
if sys.argv[3:]:   # one Ray for every run: the CLI joins a Ray running in its process and leaves it running
    import ray
    ray.init(num_cpus=int(sys.argv[3]), include_dashboard=False, log_to_driver=False, logging_level='ERROR')
status = []
for k, argv in enumerate(json.loads(sys.argv[1])):
    with open(f'{sys.argv[2]}/{k}.out', 'w') as out, open(f'{sys.argv[2]}/{k}.err', 'w') as err:
        sys.stdout.flush(); sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        try: status.append(main(argv))
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            for fd, kept in enumerate(saved, 1): os.dup2(kept, fd); os.close(kept)
if sys.argv[3:]: assert ray.is_initialized(), 'a run shut down the Ray it did not start'
print(json.dumps(status))'''

def run_in_one_process(tmp_path, *argvs, ray_cpus:int=None)->list:
    "`tokenlens` with each of `argvs` in turn, in one new process (with `ray_cpus`, one Ray started first serves all)."
    argv = json.dumps([list(map(str, a)) for a in argvs])
    ray = [str(ray_cpus)] if ray_cpus else []
    r = subprocess.run([os.sys.executable, '-c', ONE_PROCESS, argv, str(tmp_path), *ray],
                       capture_output=True, text=True, env=ENV, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return [subprocess.CompletedProcess(a, rc, (tmp_path/f'{k}.out').read_text(), (tmp_path/f'{k}.err').read_text())
            for k, (a, rc) in enumerate(zip(argvs, json.loads(r.stdout.splitlines()[-1])))]

def mixed_rows(n:int)->list:
    "`n` rows: every tenth a line of the demo (every kind of finding, malformed JSON), the rest questions in three formats."
    demo = [l for l in DEMO.read_text(encoding='utf-8').splitlines() if l.strip()]
    out = []
    for k in range(n):
        q, a = f"Question {k}: name a colour." + (' ' if k % 3 == 0 else '\n'), ('  ' if k % 7 == 0 else '') + f"Colour {k % 11}."
        out.append(demo[k // 10 % len(demo)] if k % 10 == 0 else json.dumps(
            [{'prompt': q, 'completion': a}, {'messages': [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': a}]},
             {'instruction': q, 'input': '', 'output': a * (k % 13)}][k % 3]))
    return out

@pytest.fixture(scope='module')
def smol():
    from tokenlens.models import load_tokenizer
    return load_tokenizer('smollm2')

@pytest.fixture(scope='module')
def big(tmp_path_factory):
    p = tmp_path_factory.mktemp('scale')/'rows.jsonl'
    p.write_text('\n'.join(mixed_rows(BIG)) + '\n', encoding='utf-8')
    return p

@pytest.fixture(scope='module')
def shards(tmp_path_factory):
    "A folder of two Parquet shards, 200 rows: half drift (a prompt ending in `http:`), half clean."
    from datasets import Dataset
    d = tmp_path_factory.mktemp('shards')
    rows = [{'prompt': f'Q{k}: http:', 'completion': '//x.org'} if k % 2 else
            {'prompt': f'Question {k}?\n', 'completion': 'Yes.'} for k in range(200)]
    for k in range(2): Dataset.from_list(rows[k::2]).to_parquet(str(d/f'train-{k:05d}.parquet'))
    return d

@pytest.fixture(scope='module')
def broken(tmp_path_factory):
    "A folder whose second file cannot be read, after more rows than the first batch."
    d = tmp_path_factory.mktemp('broken')
    (d/'a.jsonl').write_text((json.dumps({'prompt': 'Q\n', 'completion': 'A'}) + '\n') * 600)
    (d/'b.jsonl').write_bytes((json.dumps({'prompt': 'Q\n', 'completion': 'A'}) + '\n').encode('utf-16'))
    return d

@pytest.fixture(scope='module')
def on_ray(big, shards, broken, tmp_path_factory):
    "The three folders and files audited on Ray (two workers) by three `tokenlens audit` runs of one process, one Ray."
    ray = ('--engine', 'ray', '--num-proc', '2')
    return dict(zip(('big', 'shards', 'broken'), run_in_one_process(tmp_path_factory.mktemp('ray'),
        ('audit', big, '--max-length', '64', '--output', 'json', *ray),
        ('audit', shards, '--output', 'json', '--max-length', '64', '--quiet', *ray),
        ('audit', broken, '--quiet', '--output', 'json', *ray), ray_cpus=2)))

@pytest.mark.xdist_group('ray')   # one worker computes `on_ray` for the three
def test_engines_write_the_same_json(big, smol, on_ray):
    "One process, two processes, Ray with two workers and `datasets.map(num_proc=2)`: the same findings, line for line."
    outs = {'ray': on_ray['big'].stdout.splitlines()}
    assert on_ray['big'].returncode == 1, on_ray['big'].stderr
    assert 'row/s' in on_ray['big'].stderr and 'audit' in on_ray['big'].stderr, on_ray['big'].stderr   # progress
    for name, args in {'one': (), 'two': ('--num-proc', '2')}.items():
        r = run('audit', str(big), '--max-length', '64', '--output', 'json', '--quiet', *args)
        assert r.returncode == 1, r.stderr
        outs[name] = r.stdout.splitlines()
    assert outs['one'] == outs['two'] == outs['ray']
    summary = json.loads(outs['one'][-1])
    found_here = set(KINDS) - {'missing_bytes', 'template', 'history_differs'} - NEEDS_SERVER
    assert summary['rows'] == BIG and set(summary['counts']) == found_here, summary
    assert len(outs['one']) - 1 == BIG - summary['clean']
    # the batch function under datasets.map with two processes: the same counts
    from datasets import Dataset, disable_progress_bars
    disable_progress_bars()
    rows = read_rows(big)
    good = [(k, r) for k,r in enumerate(rows.rows) if isinstance(r, dict)]
    ds = Dataset.from_list([{'row': json.dumps(r)} for _,r in good])
    index = [k for k,_ in good]
    cols = ds.map(lambda b, i: audit_batch(_unpack(b), [index[k] for k in i], tok=smol, max_length=64),
                  batched=True, batch_size=300, with_indices=True, num_proc=2, remove_columns=['row'])
    rep = report_from_columns(cols.to_dict(), rows, smol, {'max_length': 64})
    assert rep.counts + Counter(bad_row=len(rows.rows) - len(good)) == Counter(summary['counts'])   # unparsed lines never reach datasets

def _unpack(b):
    "Rows stored as JSON strings (so rows of different formats fit one `datasets` schema) back into columns of rows."
    rows = [json.loads(s) for s in b['row']]
    keys = sorted({k for r in rows for k in r})
    return {k: [r.get(k) for r in rows] for k in keys}

def test_reading_streams(smol):
    "Rows are read a batch at a time as they are checked: an endless source with a limit ends, and findings arrive early."
    read, seen = [0], []
    def endless():
        for k in itertools.count():
            read[0] += 1
            yield {'prompt': f'Q{k}: http:', 'completion': '//x.org'}
    rep = audit(endless(), smol, limit=2000, chunk_size=100, each=lambda res, rows: seen.append((read[0], len(res))))
    assert len(rep) == 2000 and rep.counts['drift'] == 2000
    assert seen[0][0] <= 202 and sum(n for _,n in seen) == 2000   # the first batch was checked after at most two were read

def test_keep_bounds_the_report(big, smol):
    "With `keep`, counts cover every row but only the first rows of each kind and the worst rows are kept; the same whatever the batches."
    full = audit(big, smol, max_length=64)
    for chunk in (97, 500):
        kept = audit(big, smol, max_length=64, keep=3, chunk_size=chunk)
        assert (kept.counts, len(kept), kept.exit_code, kept.summary_record()) == (full.counts, len(full), full.exit_code, full.summary_record())
        assert len(kept.results) <= 3 * len(KINDS) + 3 and len(kept.rows.rows) == len(kept.results)
        assert [r.index for r in kept.worst(3)] == [r.index for r in full.worst(3)]
        assert all(kept.rows_with(k)[:3] == full.rows_with(k)[:3] and set(kept.rows_with(k)) <= set(full.rows_with(k)) for k in KINDS)
    page = kept.to_html()
    assert 'more: <code>--output json</code> lists every row' in page and kept.example(kept.rows_with('straddle')[0])

@pytest.mark.xdist_group('ray')   # one worker computes `on_ray` for the three
def test_parquet_shards_on_every_engine(shards, on_ray):
    "A folder of Parquet shards: Ray's read tasks read them with tokenlens's reader; the output and the progress total agree."
    one, ray = run('audit', str(shards), '--output', 'json', '--max-length', '64'), on_ray['shards']
    assert one.returncode == ray.returncode == 0, (one.stderr, ray.stderr)   # drift is a warning
    assert one.stdout == ray.stdout and '200/200' in one.stderr, one.stderr
    recs = [json.loads(l) for l in one.stdout.splitlines()]
    assert (recs[0]['where'], recs[-2]['where'], recs[-1]['rows']) == ('train-00001.parquet row 0', 'train-00001.parquet row 99', 200)   # the odd rows, in shard 1

def test_streamed_sarif_and_json_are_whole(big):
    "SARIF and JSON Lines written batch by batch are one valid log / one line per flagged row, the same as from the report."
    import sarif_pydantic
    s = run('audit', str(big), '--max-length', '64', '--output', 'sarif', '--quiet', '--limit', '1200')
    j = run('audit', str(big), '--max-length', '64', '--output', 'json', '--quiet', '--limit', '1200')
    log = sarif_pydantic.Sarif.model_validate(json.loads(s.stdout))
    recs = [json.loads(l) for l in j.stdout.splitlines()]
    assert len(log.runs[0].results) == sum(len(r['findings']) for r in recs[:-1]) > 0
    assert [r.properties['row'] for r in log.runs[0].results] == [r['row'] for r in recs[:-1] for _ in r['findings']]
    assert (s.returncode, j.returncode, recs[-1]['rows']) == (1, 1, 1200)

@pytest.mark.xdist_group('ray')   # one worker computes `on_ray` for the three
def test_unreadable_shard_mid_run(broken, on_ray):
    "A shard that cannot be read, after the first batch: exit 2 and one line naming it, on one process and on Ray."
    for engine, r in (('local', run('audit', str(broken), '--quiet', '--output', 'json')), ('ray', on_ray['broken'])):
        assert r.returncode == 2, (engine, r.stderr)
        said = f"tokenlens audit: error: {broken/'b.jsonl'}: the file looks like UTF-16 text; save it as UTF-8"
        assert said in r.stderr, r.stderr
        assert 'Traceback' not in r.stderr, r.stderr
