"The label comparison on hostile input: a TRL config, a dataset or a --labels file a user got wrong is one line, exit 2."
import json
import pytest
pytest.importorskip('trl')
from tokenlens.audit import main
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
    return audit(capsys, jsonl(tmp_path/'data.jsonl', rows), '--against', 'trl', '--trl-config', str(tmp_path/'sft.yaml'))

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
    with pytest.raises(ValueError, match='chat_template_path') as e: check_sft_config({'chat_template_path': str(tmp_path/name)})
    assert says in str(e.value) and '\n' not in str(e.value)

def test_check_sft_config_takes_what_trl_takes(tmp_path):
    load_tokenizer('smollm2').save_pretrained(tmp_path/'tok')
    (tmp_path/'t.j2').write_text('{{ messages }}')
    for path in (str(tmp_path/'tok'), str(tmp_path/'t.j2'), 'HuggingFaceTB/SmolLM2-135M-Instruct'):
        assert check_sft_config({'chat_template_path': path}) == {'chat_template_path': path}
    assert sft_chat_template({'chat_template_path': str(tmp_path/'t.j2')}) == '{{ messages }}'
    assert sft_chat_template({'chat_template_path': str(tmp_path/'tok')}) == load_tokenizer('smollm2').chat_template

@pytest.mark.parametrize('path,says', [('{tmp}/empty', 'a folder with no tokenizer in it'),
                                       ('no-such-org/no-such-model', "TRL cannot load chat_template_path 'no-such-org/no-such-model'"),
                                       ('/no/such/folder', 'nor a Hub model id'),
                                       ('5', 'must be a path or a Hub id, got 5')])
def test_cli_chat_template_path_trl_cannot_load_is_an_input_error(tmp_path, capsys, path, says):
    (tmp_path/'empty').mkdir()
    path = path.format(tmp=tmp_path)
    input_error(*against_trl(tmp_path, capsys, f"chat_template_path: {path}\n", [CHAT, CHAT]), says)

@pytest.mark.xfail(strict=True, reason="_compare_cli reads a .jinja chat_template_path before checking it: it must call "
                                       "compare.check_sft_config first (06_audit, owned by the lead)")
def test_cli_missing_jinja_chat_template_path_is_an_input_error(tmp_path, capsys):
    input_error(*against_trl(tmp_path, capsys, f"chat_template_path: {tmp_path}/missing.jinja\n", [CHAT, CHAT]), 'no such file')
