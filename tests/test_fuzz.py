"""Hostile text and hostile rows on both embedded tokenizers: nothing raises where a per-row result is promised, batched
results equal per-row ones, spans spell what they cover (or say why not). Bounded to run in well under a minute."""
from hypothesis import HealthCheck, given, settings, strategies as st
from tokenlens.audit import check_rows
from tokenlens.core import check_spans, tokenize
from tokenlens.masking import mask_rows
from tokenlens.models import load_tokenizer

TOKS = {name: load_tokenizer(name) for name in ('smollm2', 'mistral')}
HOSTILE = ['\x00', '\r\n', '\ud800', '\udfff', '\x16', '\x06', '\U00040000', '<|im_start|>', '<|im_end|>', '</s>', '<s>',
           '[INST]', ' ' * 300, '\n' * 50, '\t', '语', '🙂', 'e\u0301', '\u2581', 'a', 'assistant', '{{', '{%']
text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=8).map(''.join)
SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))

@SETTINGS
@given(s=text, name=st.sampled_from(sorted(TOKS)))
def test_spans_of_hostile_text(s, name):
    "Either a clean error (a lone surrogate), or spans that spell what they cover unless a warning says why not."
    try: t = tokenize(TOKS[name], s)
    except ValueError as e:
        assert 'lone surrogate' in str(e)
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in s)
        return
    assert all(a[0] <= b[0] for a,b in zip(t.spans, t.spans[1:])), t.spans
    problems = check_spans(t)
    assert not problems or t.warnings, (s, problems)

content = st.one_of(text, text, text, text, st.none(), st.integers(), st.lists(st.one_of(
    st.fixed_dictionaries({'type': st.just('text'), 'text': text}), st.just({'type': 'image'}), st.just({'type': 'text'}),
    st.just('bare string')), max_size=3))
message = st.fixed_dictionaries({'role': st.sampled_from(['user', 'assistant'] * 4 + ['system', 'tool', 'robot', None]), 'content': content})
word = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=12))
some = st.lists(word, min_size=1, max_size=6).map(''.join)   # never empty
good = st.one_of(   # rows that plan: their labels must come out the same in a batch as alone
    st.tuples(some, some, some, some).map(lambda t: {'messages': [{'role': 'user', 'content': t[0]}, {'role': 'assistant', 'content': t[1]},
                                                                  {'role': 'user', 'content': t[2]}, {'role': 'assistant', 'content': t[3]}]}),
    st.tuples(some, some).map(lambda t: {'prompt': t[0], 'completion': t[1]}),
    st.tuples(some, some).map(lambda t: {'text': t[0] + '\n### Response: ' + t[1]}))
hostile = st.one_of(
    st.fixed_dictionaries({'messages': st.one_of(st.lists(message, min_size=2, max_size=4), st.lists(message, min_size=2, max_size=4), st.none(), text)}),
    st.fixed_dictionaries({'prompt': st.one_of(text, text, text, st.none(), st.integers()), 'completion': st.one_of(text, text, st.none())}),
    st.fixed_dictionaries({'segments': st.one_of(st.lists(st.fixed_dictionaries({'text': text, 'label': st.booleans()}), max_size=3),
                                                 st.just([{'text': 1, 'label': 'no'}]))}),
    st.fixed_dictionaries({'text': text}))
row = st.one_of(good, good, hostile)

@SETTINGS
@given(rows=st.lists(row, min_size=1, max_size=5), name=st.sampled_from(sorted(TOKS)))
def test_batched_masking_equals_per_row(rows, name):
    "A hostile row is an error of its own: it never stops the batch, and every row gets what it gets alone."
    tok = TOKS[name]
    keys = sorted({k for r in rows for k in r})
    as_batch = lambda rs: {k: [r.get(k) for r in rs] for k in keys}
    got = mask_rows(as_batch(rows), tok=tok, format='auto')
    for k,r in enumerate(rows):
        one = mask_rows(as_batch([r]), tok=tok, format='auto')
        assert [got[c][k] for c in got] == [one[c][0] if c != 'mask_error' or one[c][0] is None
                                            else one[c][0].replace('row 0:', f'row {k}:') for c in one], (r, got, one)

@SETTINGS
@given(rows=st.lists(st.one_of(row, st.integers(), st.text(max_size=3), st.none()), min_size=1, max_size=6),
       name=st.sampled_from(sorted(TOKS)))
def test_audit_checks_never_raise(rows, name):
    "Every row gets a result: findings, or none; never an exception."
    res = check_rows(TOKS[name], rows, max_length=64)
    assert [r.index for r in res] == list(range(len(rows)))
    for r in res: assert all(isinstance(f.kind, str) and isinstance(f.message, str) for f in r.findings)
