"""Rows that catch `tokenlens.formats` out, each reproduced as a user met it, on the embedded SmolLM2 tokenizer.

1. `--role-map` is applied once: a swap of `user` and `assistant` trains the message the swap names, through
   `plan_row` and through the `tokenlens audit` command line.
2. A `text` row without a response template is trained from the template its own format uses, not from the first
   known one a prompt happens to quote; the guess is an `Info` note, and a guess between two templates nothing tells
   apart is a `template` finding.
3. A field map renames columns all at once: `--prompt-field question --completion-field prompt` keeps both columns.
4. OpenAI's tool-call turn (`"content": null` with `tool_calls`) renders on a template written for tools (TRL's
   Qwen3), and on one that is not (SmolLM2's) it is a bad row naming the message and the key, not Jinja's anonymous
   `'dict object' has no attribute 'content'`.
5. `parse_role_map` reads `--role-map` strictly: sides stripped; an empty side, a second `=`, a role renamed twice
   and a target that is not a role are one-line `ValueError`s.
"""
import json, os, re
from functools import cache

import pytest
import trl

from tokenlens.audit import check_rows
from tokenlens.cli import main
from tokenlens.formats import ROLES, Info, map_fields, parse_role_map, plan_row
from tokenlens.models import load_tokenizer

@cache
def smol(): return load_tokenizer('smollm2')

def trained(p): return [p.plan.text[a:b] for a,b in p.plan.ranges]

def ntokens(s:str)->int: return len(smol()(s, add_special_tokens=False)['input_ids'])

def audit(capsys, path, *args)->tuple:
    "Exit status and stdout of `tokenlens audit PATH ARGS` run in this process."
    status = main(['audit', str(path), '--quiet', *args])
    return status, capsys.readouterr().out

def jsonl(path, rows):
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return path

# 1. the role map, once
SWAP = {'user': 'assistant', 'assistant': 'user'}
QUESTION, ANSWER = 'What is two plus two, written as a word?', 'Four.'

@pytest.mark.parametrize('row', [
    {'messages': [{'role': 'assistant', 'content': QUESTION}, {'role': 'user', 'content': ANSWER}]},
    {'conversations': [{'from': 'assistant', 'value': QUESTION}, {'from': 'user', 'value': ANSWER}]},
    {'prompt': [{'role': 'assistant', 'content': QUESTION}], 'completion': [{'role': 'user', 'content': ANSWER}]},
], ids=['messages', 'sharegpt', 'conversational'])
def test_a_swapped_role_map_trains_the_answer(row):
    p = plan_row(smol(), row, role_map=SWAP)
    assert trained(p) == [ANSWER, '<|im_end|>']
    served = f'<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n'
    assert p.plan.text.startswith(p.serve) and p.serve.endswith(served), p.serve

def test_the_command_line_swaps_roles_once(tmp_path, capsys):
    "The swapped file with `--role-map` audits exactly as the same file written with the right roles."
    conv = lambda asker, answerer: {'messages': [{'role': asker, 'content': QUESTION},
                                                 {'role': answerer, 'content': ANSWER}]}
    swapped = jsonl(tmp_path/'swapped.jsonl', [conv('assistant', 'user')])
    right = jsonl(tmp_path/'right.jsonl', [conv('user', 'assistant')])
    status, out = audit(capsys, swapped, '--role-map', 'user=assistant,assistant=user')
    want_status, want = audit(capsys, right)
    tokens = lambda o: re.search(r'^tokens: .*$', o, re.M)[0]
    assert (status, tokens(out), 'drift' in out) == (want_status, tokens(want), False), out
    assert f"({ntokens(ANSWER + '<|im_end|>')} trained" in tokens(out), out
    status, out = audit(capsys, swapped, '--role-map', 'user=assistant,assistant=user', '--output', 'json')
    assert [json.loads(l)['type'] for l in out.splitlines()] == ['summary'], out   # no row has a finding

# 2. the response template of a text row, guessed from its format
CHATML = ('<|im_start|>user\nIn Alpaca data, what comes after "### Response:"?<|im_end|>\n'
          '<|im_start|>assistant\nThe answer the model learns to write.<|im_end|>\n')
ALPACA_QUOTING = ('### Instruction:\nWhat does <|im_start|>assistant start?\n\n'
                  '### Response:\nAn assistant turn in ChatML.')
LLAMA2 = '<s>[INST] Explain the "### Assistant:" tag. [/INST] It marks the assistant in old chat data.</s>'

@pytest.mark.parametrize('text,answer', [(CHATML, '\nThe answer the model learns to write.<|im_end|>\n'),
                                         (ALPACA_QUOTING, '\nAn assistant turn in ChatML.'),
                                         (LLAMA2, ' It marks the assistant in old chat data.</s>')],
                         ids=['chatml', 'alpaca', 'llama2'])
def test_a_quoted_response_template_is_text(text, answer):
    p = plan_row(smol(), {'text': text})
    assert trained(p) == [answer]
    [note] = p.plan.notes
    assert isinstance(note, Info) and note.startswith('no response template given'), note

def test_the_audit_reports_a_guess_only_when_it_is_a_problem():
    unclear = {'text': 'Summarise.\n### Response: see below\n### Assistant: A summary.'}   # no format opens the text
    unanswered = {'text': CHATML.split('<|im_start|>assistant')[0]}       # ChatML, its question quoting another format
    res = check_rows(smol(), [{'text': CHATML}, unclear, unanswered], response_template=None)
    assert [[f.kind for f in r.findings][:1] for r in res] == [[], ['template'], ['template']], res
    assert "nothing tells '### Response:' from '### Assistant:'" in res[1].findings[0].message
    assert "the text is in the format of '<|im_start|>assistant'" in res[2].findings[0].message
    res = check_rows(smol(), [unclear], response_template='### Assistant:')   # a template given is no guess
    assert res[0].findings == [] and res[0].trained == ntokens(' A summary.')

# 3. the field map, all at once
def test_a_column_may_take_the_name_of_another_renamed(tmp_path, capsys):
    row = {'question': 'Translate to French: cat\n', 'prompt': 'chat'}
    want = {'prompt': row['question'], 'completion': 'chat'}
    assert map_fields(row, {'prompt': 'question', 'completion': 'prompt'}) == want
    f = jsonl(tmp_path/'cols.jsonl', [row])
    status, out = audit(capsys, f, '--prompt-field', 'question', '--completion-field', 'prompt')
    assert status == 0 and 'prompt_completion 1' in out and f"({ntokens('chat<|im_end|>')} trained" in out, out
    assert main(['audit', str(f), '--quiet', '--prompt-field', 'question', '--completion-field', 'question']) == 2
    assert "the field map gives 'question' as both the prompt and the completion field" in capsys.readouterr().err

# 4. null content
QWEN3 = os.path.join(os.path.dirname(trl.__file__), 'chat_templates', 'qwen3.jinja')
CALL = {'type': 'function', 'function': {'name': 'multiply', 'arguments': {'a': 3, 'b': 4}}}
TOOL_ROW = {'messages': [{'role': 'user', 'content': 'What is 3*4?'},
                         {'role': 'assistant', 'content': None, 'tool_calls': [CALL]},      # OpenAI's shape
                         {'role': 'tool', 'name': 'multiply', 'content': '12'},
                         {'role': 'assistant', 'content': 'It is 12.'}]}
NULL_MESSAGE = ("messages[1].content is null, and the chat template needs it: "
                "UndefinedError: 'dict object' has no attribute 'content'")

def test_a_tool_call_turn_with_null_content_trains_on_a_tool_template():
    p = plan_row(smol(), TOOL_ROW, chat_template=open(QWEN3).read())
    call = '<tool_call>\n{"name": "multiply", "arguments": {"a": 3, "b": 4}}\n</tool_call>'
    # Qwen3 writes an empty think block into the last turn (the model writes it too), and drops it from earlier turns:
    assert trained(p) == [call, '<|im_end|>', '<think>\n\n</think>\n\nIt is 12.', '<|im_end|>']
    assert [(n.kind, n.msg) for n in p.plan.notes] == [('history_differs', 1)], p.plan.notes

def test_a_template_without_tools_names_the_null_message():
    with pytest.raises(ValueError, match=re.escape(NULL_MESSAGE)): plan_row(smol(), TOOL_ROW)
    user = {'messages': [{'role': 'user', 'content': None}, {'role': 'assistant', 'content': 'Hi.'}]}
    with pytest.raises(ValueError, match=re.escape('messages[0].content is null')): plan_row(smol(), user)

def test_the_command_line_on_null_content(tmp_path, capsys):
    f = jsonl(tmp_path/'tools.jsonl', [TOOL_ROW])
    status, out = audit(capsys, f, '--output', 'json')
    rows = [json.loads(l) for l in out.splitlines() if json.loads(l)['type'] == 'row']
    found = [[(x['kind'], x['message']) for x in r['findings']] for r in rows]
    assert (status, found) == (1, [[('bad_row', NULL_MESSAGE)]]), out
    status, out = audit(capsys, f, '--output', 'json', '--chat-template', QWEN3)
    kinds = [[x['kind'] for x in json.loads(l)['findings']] for l in out.splitlines() if json.loads(l)['type'] == 'row']
    assert status == 0 and kinds == [['history_differs']], out   # a warning: the tool call renders otherwise once answered

# 5. the role map as written on the command line
def test_a_role_map_is_read_strictly():
    assert parse_role_map(' human = user , bot=assistant') == {'human': 'user', 'bot': 'assistant'}
    assert parse_role_map('user=assistant,assistant=user') == SWAP
    p = plan_row(smol(), {'conversations': [{'from': 'human', 'value': 'Hi'}, {'from': 'bot', 'value': 'Yo'}]},
                 role_map=parse_role_map(' human = user , bot = assistant '))
    assert trained(p) == ['Yo', '<|im_end|>']

@pytest.mark.parametrize('s,message', [
    ('human=', "'human=' has no role after '='"), ('=user', "'=user' has no role before '='"),
    (' = ', "'=' has no role before '='"), ('human=user=x', "'human=user=x' has more than one '='"),
    ('human', "'human' has no '='"), ('human=user,,bot=assistant', 'pair 2 is empty'),
    ('', 'the role map is empty'), ('human=user,human =user', "'human' is renamed twice"),
    ('bot=Assistant', f"'bot=Assistant': 'Assistant' is not a role; the roles are {', '.join(ROLES)}"),
])
def test_a_role_map_that_cannot_be_meant_is_refused(s, message):
    with pytest.raises(ValueError) as e: parse_role_map(s)
    assert message in str(e.value) and '\n' not in str(e.value), str(e.value)
