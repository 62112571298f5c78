"The label comparison on hostile input: a TRL config, dataset or --labels file a user got wrong is one line, exit 2."
import json, re
import pytest
pytest.importorskip('trl')
pytestmark = pytest.mark.slow   # the full suite only: each test runs TRL's dataset preparation
from tokenlens.cli import main
from tokenlens.compare import check_sft_config, sft_chat_template
from tokenlens.models import load_tokenizer

PC = [{'prompt': 'What is 2+2?', 'completion': ' 4.'}, {'prompt': 'Capital of France?', 'completion': ' Paris.'}]
CHAT = {'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'}]}

def jsonl(path, rows):
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return str(path)

def audit(capsys, *args):
    "`tokenlens audit ARGS --quiet` in this process: its exit status and stderr."
    rc = main(['audit', *args, '--quiet'])
    return rc, capsys.readouterr().err

def against_trl(tmp_path, capsys, config:str, rows=PC):
    (tmp_path/'sft.yaml').write_text(config)
    data = jsonl(tmp_path/'data.jsonl', rows)
    return audit(capsys, data, '--against', 'trl', '--trl-config', str(tmp_path/'sft.yaml'))

def input_error(rc, err, says):
    "Exit 2 with one line that says `says`, and no internal error."
    assert rc == 2 and 'internal error' not in err, err
    assert len(err.strip().splitlines()) == 1 and says in err, err

# 1. chat_template_path: TRL takes a .jinja/.j2 file, a folder holding a tokenizer, or a Hub id

@pytest.mark.parametrize('name,says', [('missing.jinja', "missing.jinja': no such file"),
                                       ('empty', 'a folder with no tokenizer in it'),
                                       ('notes.txt', 'only from a .jinja or .j2 file')])
def test_check_sft_config_names_a_chat_template_path_trl_cannot_use(tmp_path, name, says):
    (tmp_path/'empty').mkdir()
    (tmp_path/'notes.txt').write_text('{{ messages }}')
    with pytest.raises(ValueError, match='chat_template_path') as e:
        check_sft_config({'chat_template_path': str(tmp_path/name)})
    assert says in str(e.value) and '\n' not in str(e.value)

def test_check_sft_config_takes_what_trl_takes(tmp_path):
    load_tokenizer('smollm2').save_pretrained(tmp_path/'tok')
    (tmp_path/'t.j2').write_text('{{ messages }}')
    for path in (str(tmp_path/'tok'), str(tmp_path/'t.j2'), 'HuggingFaceTB/SmolLM2-135M-Instruct'):
        assert check_sft_config({'chat_template_path': path}) == {'chat_template_path': path}
    assert sft_chat_template({'chat_template_path': str(tmp_path/'t.j2')}) == '{{ messages }}'
    assert sft_chat_template({'chat_template_path': str(tmp_path/'tok')}) == load_tokenizer('smollm2').chat_template

@pytest.mark.parametrize('path,says', [('{tmp}/empty', 'a folder with no tokenizer in it'),
                                       ('no-such-org/no-such-model', "cannot load chat_template_path 'no-such-org/"),
                                       ('/no/such/folder', 'nor a Hub id'),
                                       ('5', 'must be a path or a Hub id, got 5')])
def test_cli_chat_template_path_trl_cannot_load_is_an_input_error(tmp_path, capsys, path, says):
    (tmp_path/'empty').mkdir()
    path = path.format(tmp=tmp_path)
    input_error(*against_trl(tmp_path, capsys, f"chat_template_path: {path}\n", [CHAT, CHAT]), says)

def test_cli_missing_jinja_chat_template_path_is_an_input_error(tmp_path, capsys):
    got = against_trl(tmp_path, capsys, f"chat_template_path: {tmp_path}/missing.jinja\n", [CHAT, CHAT])
    input_error(*got, 'no such file')

# 2. dataset_kwargs: a mapping (or JSON of one, which SFTConfig parses); skip_prepare_dataset leaves nothing to compare

@pytest.mark.parametrize('value,says', [
    ('[1, 2]', 'dataset_kwargs must be a mapping such as {skip_prepare_dataset: false}, got list'),
    ('skip_prepare_dataset', "got str 'skip_prepare_dataset'"),
    ("'{skip: 1'", 'not valid JSON'),
    ('{skip_prepare_dataset: "no"}', "skip_prepare_dataset must be true or false, got 'no'"),
    ('{skip_prepare_dataset: true}', 'compare such rows'),
    ('{skip_prepare_dataset: false}\nmax_length: 2k', 'max_length must be a whole number')])
def test_cli_dataset_kwargs_not_a_mapping_is_an_input_error(tmp_path, capsys, value, says):
    input_error(*against_trl(tmp_path, capsys, f"dataset_kwargs: {value}\n"), says)

def test_cli_dataset_kwargs_as_trl_takes_them_compare(tmp_path, capsys):
    for value in ('{skip_prepare_dataset: false}', '\'{"skip_prepare_dataset": false}\''):
        rc, err = against_trl(tmp_path, capsys, f"dataset_kwargs: {value}\ncompletion_only_loss: true\n")
        assert rc in (0, 1) and err == '', err

# 3. TRL prepares one format per dataset (the first row's): a second format is named, not a crash midway

@pytest.mark.parametrize('rows,says', [
    (PC + [CHAT], r'(row 0|line 1) is prompt/completion but (row 2|line 3) is messages: compare each format'),
    ([CHAT, PC[0]], r'(row 0|line 1) is messages but (row 1|line 2) is prompt/completion'),
    ([PC[0], {'prompt': 'Hi'}], r'TRL cannot prepare (row 1|line 2): it has a prompt without a completion'),
    ([{'instruction': 'Hi', 'output': 'Hi!'}], r'none of the columns TRL reads \(prompt, messages, conversations'),
])
def test_cli_rows_trl_cannot_prepare_together_are_an_input_error(tmp_path, capsys, rows, says):
    rc, err = against_trl(tmp_path, capsys, 'completion_only_loss: true\n', rows)
    input_error(rc, err, 'TRL ')
    assert re.search(says, err), err

# 4. --labels ids the tokenizer does not have: that row's finding, and the other rows are still compared

def tokenized(rows):
    "Each row's rendered text, encoded whole and trained whole: a pipeline that masks nothing."
    from tokenlens.core import encode_batch
    from tokenlens.formats import plan_row
    tok = load_tokenizer('smollm2')
    ids = encode_batch(tok, [plan_row(tok, r).plan.text for r in rows])
    return [{'input_ids': i, 'labels': list(i)} for i in ids]

@pytest.mark.parametrize('column,value,says', [
    ('input_ids', 10**6, "input id(s) outside the tokenizer's 49152"),
    ('input_ids', -5, 'first at token 1: -5'),
    ('labels', -1, 'label(s) neither -100 nor a token id (first at token 1: -1)'),
    ('labels', 49152, 'neither -100 nor a token id')])
def test_cli_labels_outside_the_vocabulary_are_the_rows_finding(tmp_path, capsys, column, value, says):
    good, bad = tokenized(PC)
    bad[column][1] = value
    data, labels = jsonl(tmp_path/'data.jsonl', PC), jsonl(tmp_path/'labels.jsonl', [good, bad])
    rc = main(['audit', data, '--labels', labels, '--output', 'json', '--report', str(tmp_path/'r.html'), '--quiet'])
    out = capsys.readouterr()
    assert rc == 1 and out.err == '', out.err
    records = [json.loads(l) for l in out.out.splitlines() if l.startswith('{')]   # then 'report: PATH'
    rows = {r['row']: r for r in records if r['type'] == 'row'}
    assert [f['kind'] for f in rows[1]['findings']] == ['ids_out_of_vocab'] and rows[1]['line'] == 2
    assert says in rows[1]['findings'][0]['message'] and rows[1]['findings'][0]['token_index'] == 1
    assert 'ids_out_of_vocab' not in {f['kind'] for f in rows[0]['findings']}   # the first row compared as usual
    assert rows[0]['findings'] and 'ids_out_of_vocab' in (tmp_path/'r.html').read_text()
