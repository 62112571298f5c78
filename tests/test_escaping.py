"""Every public HTML path escapes what it is given. Payloads go into each user-controllable string (text, layer values,
titles, causes, notes, prompts, prefixes, row fields); the HTML is opened in headless Chromium with the network cut off,
where nothing may run and the payload must read as text."""
import re
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group('browser')]

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = '\'"><script>window.__pwned=1</script>'
P = f'{IMG} {SCRIPT}'                 # breaks out of text, double- and single-quoted attributes
SEEN = ('<img src=x onerror=', '\'"><script>window.__pwned=1</script>')   # must be read as text

# What the page reports: the flag a payload sets, its text, elements and attributes no tokenlens HTML ever has
PROBE = """() => ({
  pwned: typeof window.__pwned !== 'undefined',
  text: document.body.innerText,
  titles: [...document.querySelectorAll('[title]')].map(e => e.title),
  classes: [...document.querySelectorAll('[class]')].flatMap(e => [...e.classList]),
  active: document.querySelectorAll('script, img, iframe, object, embed, svg, link, style:not(head style)').length,
  handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))
            .filter(n => n.startsWith('on')),
})"""

@pytest.fixture(scope='module')
def browser(chromium_launch):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(**chromium_launch)
        try: yield b
        finally: b.close()

@pytest.fixture
def page_of(browser, tmp_path):
    "Write HTML fragments into one page, open it offline, and return what `PROBE` finds there."
    def open_page(name, *fragments):
        path = tmp_path/f'{name}.html'
        whole = len(fragments) == 1 and fragments[0].startswith('<!doctype')   # a page of its own (`to_html`)
        doc = fragments[0] if whole else ("<!doctype html><html><head><meta charset='utf-8'><title>escaping</title>"
                                          "</head><body>" + '\n<hr>\n'.join(fragments) + '</body></html>')
        path.write_text(doc, encoding='utf-8')
        ctx = browser.new_context()
        try:
            ctx.route('**/*', lambda route: route.continue_() if route.request.url == path.as_uri() else route.abort())
            page = ctx.new_page()
            page.goto(path.as_uri(), wait_until='load')   # load waits for the failing image, so its onerror has run
            return page.evaluate(PROBE)
        finally: ctx.close()
    return open_page

def _safe(r, seen=SEEN, chips=()):
    "Nothing ran, nothing active was created, each string of `seen` is on the page as text, and so are the `chips`."
    assert not r['pwned'], 'a payload ran'
    assert r['active'] == 0, f"{r['active']} script/img/... element(s) made from data"
    assert r['handlers'] == [], r['handlers']
    bad = [c for c in r['classes'] if not re.fullmatch(r'[a-z0-9_-]+', c)]
    assert bad == [], bad
    for s in seen: assert s in r['text'], f"{s!r} is not on the page as text"
    flat = re.sub(r'\s', '', r['text'])   # token chips are separate boxes: the text between them is whitespace
    for s in chips: assert re.sub(r'\s', '', s) in flat, f"{s!r} is not drawn as chips"

@pytest.fixture(scope='module')
def smol():
    from tokenlens.models import load_tokenizer
    return load_tokenizer('smollm2')

def test_harness_catches_raw_payload(page_of):
    "The check can fail: the same payloads written raw run, and leave no text."
    r = page_of('raw', f"<div title='{P}'>x</div>", f"<span class='tl-{P}'>y</span>", P)
    assert r['pwned']
    assert r['active'] > 0
    assert SEEN[0] not in r['text']

def test_tokenized_render_legend_notes(page_of, smol):
    from tokenlens.core import tokenize, visible
    from tokenlens.render import legend_html, render, render_html
    t = tokenize(smol, P)
    noted = tokenize(smol, 'noted')
    noted.notes = [P]
    r = page_of('tokenized', render_html(t), t._repr_html_(), render(t), render_html(t, title=P), render_html(noted),
                legend_html())
    _safe(r, chips=[visible(P)])   # chips show spaces as ·

class _Views:
    "A result object of the `views()` protocol with a payload in its title and in every layer."
    def __init__(self, title, t): self.title, self.t = title, t
    def views(self):
        n = len(self.t)
        bad = [self.title]*n
        return [(self.title, self.t, dict(label=bad, labels=bad, drift=bad, bias=['3']*n)),
                (SCRIPT, self.t, {'label': ['trained']*n})]

def test_render_html_layers(page_of, smol):
    from tokenlens.core import tokenize
    from tokenlens.render import render, render_html
    t = tokenize(smol, 'a b c')
    n = len(t)
    lay = dict(label=[P]*n, labels=[P]*n, drift=[P]*n, bias=['3']*n)
    two = _Views(P, t)
    r = page_of('layers', render_html(t, lay, title=P), render(two), render(two, side_by_side=True))
    _safe(r)
    for name in ('label', 'labels', 'drift'): assert any(f'{name} {P}' in x for x in r['titles']), name
    assert '+3' in r['text']
    assert 'tl-trained' in r['classes']

def test_render_html_bias_must_be_numbers(smol):
    "A bias value that is not a number is refused, naming the layer and the token, instead of reaching the HTML."
    from tokenlens.core import tokenize
    from tokenlens.render import render_html
    t = tokenize(smol, 'a b')
    with pytest.raises(ValueError, match=r"layer 'bias'.*token 1"): render_html(t, {'bias': [0, P]})

def test_drift_reports(page_of, smol):
    from tokenlens.core import tokenize
    from tokenlens.drift import DriftReport, DriftSummary, RoundTrip, concat_drift, roundtrip
    rep = DriftReport(tokenize(smol, P), tokenize(smol, P + ' x'), extra_causes=[P])
    assert P in rep.causes
    one = DriftReport(tokenize(smol, 'same'), tokenize(smol, 'same'), extra_causes=P)   # one cause, not its letters
    assert one.causes == [P]
    t = tokenize(smol, P)
    rt = RoundTrip(t, P + P, [(0, 1, '<', P)], [P])
    summ = DriftSummary(dict(drift_equal=[False, None], drift_first=[[0, 0], None],
                             drift_causes=[[P, 'double_bos'], []], drift_error=[None, P]))
    r = page_of('drift', rep._repr_html_(), one._repr_html_(), concat_drift(smol, [P[:9], P[9:]])._repr_html_(),
                roundtrip(smol, P)._repr_html_(), rt._repr_html_(), summ._repr_html_())
    _safe(r)

def test_healing(page_of, smol):
    from tokenlens.core import tokenize
    from tokenlens.healing import BoundaryBias, Healed, PrefixMatches, boundary_bias, prefix_matches
    t = tokenize(smol, P)
    full = tokenize(smol, P + P)
    healed = Healed(P, P + P, full.ids, P, t.ids[-2:], True, smol, len(t) - 2)
    r = page_of('healing', prefix_matches(smol, '<')._repr_html_(), prefix_matches(smol, P)._repr_html_(),
                PrefixMatches(smol, P, t.ids)._repr_html_(),
                boundary_bias(smol, P + ' http:')._repr_html_(), BoundaryBias(t, [0]*(len(t)-1) + [5])._repr_html_(),
                healed._repr_html_())
    _safe(r)

def test_masking(page_of, smol):
    from tokenlens.core import tokenize
    from tokenlens.masking import MaskSummary, label_tokens, mask_segments
    seg = mask_segments(smol, [{'text': P, 'label': False}, {'text': P, 'label': True}])
    noted = label_tokens(tokenize(smol, P), [(0, 5)], notes=[P])
    summ = MaskSummary(dict(input_ids=[[1], []], trainable=[1, 0], straddles=[0, 0], absorbed=[0, 0],
                            mask_error=[None, P]))
    r = page_of('masking', seg._repr_html_(), noted._repr_html_(), summ._repr_html_())
    _safe(r)

def test_token_viewer(page_of, smol):
    from tokenlens.core import tokenize, visible
    from tokenlens.drift import DriftReport
    from tokenlens.healing import boundary_bias
    from tokenlens.masking import mask_segments
    from tokenlens.viz import TokenViewer
    items = [mask_segments(smol, [{'text': P, 'label': False}, {'text': P, 'label': True}]),
             DriftReport(tokenize(smol, P), tokenize(smol, P + ' x'), extra_causes=[P]),
             boundary_bias(smol, P + ' http:'), tokenize(smol, P), _Views(P, tokenize(smol, P))]
    v = TokenViewer(items)
    pages = []
    for _ in items:
        pages.append(v._repr_mimebundle_()['text/html'])
        v.go(1)
    r = page_of('viewer', *pages)
    _safe(r, chips=[visible(P)])

def _payload_rows():
    from tokenlens.audit import BadRow, Rows
    rows = [{'messages': [{'role': 'user', 'content': P + '<|im_end|>'}, {'role': 'assistant', 'content': P}]},
            {'prompt': P + ' http:', 'completion': '//' + P},
            {'text': P},
            {P: P},
            BadRow(P)]
    return Rows(rows, [P]*len(rows), P)

def test_audit_report(page_of, smol):
    from tokenlens.audit import audit
    rep = audit(_payload_rows(), smol)
    assert len(rep.flagged) >= 4
    _safe(page_of('audit', rep.to_html()))
    _safe(page_of('audit_repr', rep._repr_html_()))

def test_audit_report_options(page_of, smol):
    from tokenlens.audit import AuditReport, Finding, RowResult
    rows = _payload_rows()
    results = [RowResult(k, P, 0, 0, [Finding('bad_row', P)]) for k in range(len(rows.rows))]
    rep = AuditReport(rows.name, smol, {'max_length': P}).add(results, rows)
    r = page_of('audit_options', rep.to_html())
    _safe(r)
