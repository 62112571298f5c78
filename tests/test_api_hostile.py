"""Public entry points given what users really hand them, where a notebook test cannot hold the check: `viz` sits below
`audit`, so `TokenViewer` on a real `AuditReport` is tested here rather than in the viz notebook."""
import subprocess, sys
import re
import pytest
from tokenlens.audit import DEMO, audit
from tokenlens.models import load_tokenizer
from tokenlens.viz import TokenViewer

@pytest.fixture(scope='module')
def smol(): return load_tokenizer('smollm2')

@pytest.fixture(scope='module')
def report(smol): return audit(DEMO, smol)

def test_token_viewer_takes_an_audit_report(report):
    "`TokenViewer(report)` browses `report.examples()`: the same rows, in the same order, drawn the same."
    ex = report.examples()
    assert ex, 'the demo has flagged rows'
    v, by_hand = TokenViewer(report), TokenViewer(ex)
    assert [m.row for m in v.items] == [m.row for m in ex]
    assert v.order == by_hand.order
    assert (v.where.value, v.view.value) == (by_hand.where.value, by_hand.view.value)
    worst = ex[v.order[0]]
    assert f"row {worst.row}" in v.where.value and worst.findings[0].kind in v.where.value, v.where.value
    v.go(1)
    by_hand.go(1)
    assert v.view.value == by_hand.view.value

def test_token_viewer_on_a_clean_audit_report(smol):
    clean = audit([{'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello.'}]}], smol)
    assert clean.clean
    with pytest.raises(ValueError, match=re.escape('needs at least one result to show; AuditReport.examples() returned none')):
        TokenViewer(clean)

def test_token_viewer_refuses_an_audit_row(report):
    "A row result (a `RowResult`) is not something the viewer can draw: a TypeError saying what it takes."
    with pytest.raises(TypeError, match=re.escape('TokenViewer cannot show item 0 (of type RowResult): it takes a result')):
        TokenViewer(report.results)

def test_viz_does_not_load_audit():
    "viz is a lower layer than audit: importing it (and using the protocol) never loads `tokenlens.audit`."
    code = "import sys, tokenlens.viz; print('tokenlens.audit' in sys.modules)"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == 'False'

def test_audit_takes_datasets_as_a_trainer_gets_them():
    "A formatted `Dataset` gives rows as plain Python, and a `DatasetDict` gives the split asked for (default: train)."
    from datasets import Dataset, DatasetDict
    tok = load_tokenizer('smollm2')
    ds = Dataset.from_list([{'prompt': 'Capital of France?\n', 'completion': 'Paris.'}] * 3)
    for fmt in ('numpy', 'arrow', 'pandas'):
        assert [r.findings for r in audit(ds.with_format(fmt), tok).results] == [[]] * 3, fmt
    dd = DatasetDict(train=ds, test=ds.select([0]))
    assert (len(audit(dd, tok)), len(audit(dd, tok, split='test'))) == (3, 1)
    with pytest.raises(Exception, match='validation'): audit(dd, tok, split='validation')
