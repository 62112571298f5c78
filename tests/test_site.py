"""The docs site, built offline by `.ci/site.py` and read page by page in headless Chromium through Playwright.
Every notebook under nbs/ must have a page; what each page must show is read from its notebook on disk, so a new
notebook is covered without touching this file. Needs Debian's chromium and the playwright package (as test_browser.py)."""
import ast, json, os, re, subprocess, sys
from pathlib import Path
from urllib.parse import urlparse, unquote
import pytest, yaml

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group('site')]   # one build of the site per run

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT/'nbs'
NOTEBOOKS = sorted(p for p in NBS.rglob('*.ipynb') if not any(o.startswith(('.', '_')) for o in p.relative_to(NBS).parts))

def page_of(nb:Path)->str:
    "The page a notebook becomes on the published site (nbdev's rule: `00a_render.ipynb` -> `render.html`)."
    rel = nb.relative_to(NBS)
    return (rel.parent/re.sub(r'^\d+[a-zA-Z0-9]*_', '', rel.name.lower())).with_suffix('.html').as_posix()

# ---------- what a notebook says its page must show ----------
def _src(c): return ''.join(c['source'])
def _opts(c): return {m.group(1) for l in _src(c).splitlines() if (m := re.match(r'\s*#\|\s*([\w-]+)', l))}
def _hidden(c): return 'hide' in _opts(c) or _src(c).lstrip().startswith('<!-- #| hide')
def _plain(md): return ' '.join(re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', md).replace('`', '').replace('**', '').split())

def headings(cells):
    "Markdown headings of the visible cells, as plain text, outside code fences."
    out = []
    for c in cells:
        if c['cell_type'] != 'markdown' or _hidden(c): continue
        fenced = False
        for l in _src(c).splitlines():
            if l.lstrip().startswith('```'): fenced = not fenced
            elif not fenced and (m := re.match(r'#{1,6}\s+(.*)', l)): out.append(_plain(m.group(1)))
    return out

def api_names(cells):
    "Public functions and classes a module notebook exports: each gets a show_doc heading (`Class.method` for @patch)."
    names = []
    for c in cells:
        if c['cell_type'] != 'code' or not re.match(r'\s*#\|\s*exports?\b', _src(c)): continue
        for n in ast.parse(_src(c)).body:
            if not isinstance(n, (ast.FunctionDef, ast.ClassDef)) or n.name.startswith('_'): continue
            patched = any(ast.unparse(d).startswith('patch') for d in n.decorator_list)
            if patched and n.args.args and n.args.args[0].annotation is not None:
                names.append(f"{ast.unparse(n.args.args[0].annotation)}.{n.name}")
            else: names.append(n.name)
    return names

def _outputs(c):
    "The text of a cell's outputs, every mime type."
    return [''.join(v) for o in c.get('outputs', []) for v in [o.get('text', '')] + list(o.get('data', {}).values()) if isinstance(v, (str, list))]

def hidden_lines(cells):
    "Lines of `#| hide` cells that no visible cell shows (source or output): they must not reach the page."
    shown = '\n'.join(_src(c) + '\n' + '\n'.join(_outputs(c)) for c in cells if not _hidden(c))
    lines = {l.strip() for c in cells if c['cell_type'] == 'code' and _hidden(c) for l in _src(c).splitlines()}
    return sorted(l for l in lines if len(l) >= 12 and not l.startswith('#') and l not in shown)

def chip_classes(cells):
    "The class sets of the token chips in the visible cells' tokenlens HTML outputs, and how many legends they draw."
    html = [''.join(o['data']['text/html']) for c in cells if c['cell_type'] == 'code' and not _hidden(c)
            for o in c.get('outputs', []) if 'text/html' in o.get('data', {})]
    return ([set(m.split()) for h in html for m in re.findall(r"class='(tl-tok\b[^']*)'", h)],
            sum(h.count("class='tl-legend'") for h in html))

def rgb(hexcol): return 'rgb({}, {}, {})'.format(*(int(hexcol.lstrip('#')[k:k+2], 16) for k in (0, 2, 4)))

def _shows_outputs(c):
    "A visible code cell whose outputs reach the page as outputs (not dropped, not pasted in as markdown)."
    return (c['cell_type'] == 'code' and not _hidden(c)
            and not re.search(r'#\|\s*(include|output)\s*:\s*(false|asis)', _src(c)))

def long_text_lines(cells, width=100):
    "Lines longer than `width` in the plain-text outputs (print, text reprs) of the visible cells: wrapped, they lose their columns."
    texts = []
    for c in cells:
        if not _shows_outputs(c): continue
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream' and o.get('name') == 'stdout': texts.append(''.join(o['text']))
            elif o.get('output_type') in ('execute_result', 'display_data') and set(o.get('data', {})) == {'text/plain'}:
                texts.append(''.join(o['data']['text/plain']))
    return [l.rstrip() for t in texts for l in re.sub(r'\x1b\[[0-9;]*m', '', t).splitlines() if len(l.rstrip()) > width]

def md_code_blocks(cells):
    "How many fenced code blocks the visible markdown cells have (```sh install lines, examples)."
    n = 0
    for c in cells:
        if c['cell_type'] != 'markdown' or _hidden(c): continue
        fenced = False
        for l in _src(c).splitlines():
            if l.lstrip().startswith('```'):
                n += not fenced
                fenced = not fenced
    return n

# ---------- the site and the browser, once per module ----------
@pytest.fixture(scope='module')
def site(tmp_path_factory, chromium_launch):
    out = tmp_path_factory.mktemp('site')/'site'
    r = subprocess.run([sys.executable, str(ROOT/'.ci'/'site.py'), '--out', str(out)], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1'), timeout=600)
    if r.returncode: pytest.fail(f"python .ci/site.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}")
    return out

@pytest.fixture(scope='module')
def browser(site, chromium_launch):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(**chromium_launch)
        try: yield b
        finally: b.close()

def test_every_notebook_in_the_sidebar():
    "The published site's navigation (sidebar.yml) lists every notebook, and nothing that is not there."
    side = yaml.safe_load((NBS/'sidebar.yml').read_text())['website']['sidebar']['contents']
    listed = [o for item in side for o in ([item] if isinstance(item, str) else item['contents'])]
    assert sorted(listed) == sorted(nb.relative_to(NBS).as_posix() for nb in NOTEBOOKS)

JS_STATE = """() => {
  const px = v => parseFloat(v) || 0;
  // The lines of a <pre> (split where its text has a newline) that the browser lays out over more than one line box.
  const wrappedLines = pre => {
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT), out = [], range = document.createRange();
    let segs = [], text = '';
    const flush = () => {
      const rects = segs.flatMap(([n, a, b]) => { range.setStart(n, a); range.setEnd(n, b); return [...range.getClientRects()]; })
                        .filter(r => r.width > 0);
      if (rects.length) {
        const tops = rects.map(r => r.top), h = Math.max(...rects.map(r => r.height));
        if (Math.max(...tops) - Math.min(...tops) > h / 2) out.push(text);
      }
      segs = []; text = '';
    };
    while (walker.nextNode()) {
      const n = walker.currentNode, t = n.data;
      let start = 0;
      for (let i = 0; i <= t.length; i++) {
        if (i < t.length && t[i] !== '\\n') continue;
        if (i > start) { segs.push([n, start, i]); text += t.slice(start, i); }
        if (i < t.length) flush();
        start = i + 1;
      }
    }
    flush();
    return out;
  };
  const textPre = pre => { const code = pre.querySelector(':scope > code'), cs = getComputedStyle(pre);
    return {text: pre.textContent, whiteSpace: cs.whiteSpace, codeWhiteSpace: code ? getComputedStyle(code).whiteSpace : cs.whiteSpace,
            overflowX: cs.overflowX, scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth, wrapped: wrappedLines(pre)}; };
  const box = el => { const cs = getComputedStyle(el), next = el.nextElementSibling;
    return {text: el.textContent.trim().slice(0, 60), background: cs.backgroundColor,
            border: cs.borderTopStyle !== 'none' ? px(cs.borderTopWidth) : 0, padding: Math.min(px(cs.paddingTop), px(cs.paddingLeft)),
            marginBottom: px(cs.marginBottom), gap: next ? next.getBoundingClientRect().top - el.getBoundingClientRect().bottom : null,
            wrapped: wrappedLines(el.querySelector('pre') || el)}; };
  const hs = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => h.textContent.replace('¶', '').replace(/\\s+/g, ' ').trim());
  const style = (sel, prop) => [...document.querySelectorAll(sel)].map(e => getComputedStyle(e)[prop]);
  return {title: document.title, text: document.body.innerText, headings: hs,
          nav: [...document.querySelectorAll('nav.tl-site-nav a')].map(a => a.href),
          sidebar: document.querySelector('nav.tl-site-nav').innerText, navbar: document.querySelector('.tl-navbar')?.innerText,
          css: [...document.styleSheets].map(s => s.href).filter(Boolean),
          textPres: [...document.querySelectorAll('.jp-RenderedText > pre')].map(textPre),
          mdCode: [...document.querySelectorAll('.jp-RenderedMarkdown .highlight, .jp-RenderedMarkdown > pre')].map(box),
          links: [...document.querySelectorAll('main a')].map(a => a.href),
          legends: document.querySelectorAll('.tl-legend').length,
          legend: {trained: style('.tl-legend .tl-legend-trained', 'backgroundColor'), masked: style('.tl-legend .tl-legend-masked', 'backgroundColor'),
                   straddle: style('.tl-legend .tl-legend-straddle', 'backgroundColor'), special: style('.tl-legend .tl-legend-special', 'backgroundColor'),
                   bias: style('.tl-legend .tl-legend-bias', 'borderBottomColor'), drift: style('.tl-legend .tl-legend-drift', 'outlineColor')},
          chips: {trained: style('.tl-tok.tl-trained:not(.tl-special)', 'backgroundColor'), masked: style('.tl-tok.tl-masked:not(.tl-special)', 'backgroundColor'),
                  straddle: style('.tl-tok.tl-straddle:not(.tl-special)', 'backgroundColor'), special: style('.tl-tok.tl-special', 'backgroundColor'),
                  bias: style('.tl-tok.tl-bias', 'borderBottomColor'), drift: style('.tl-tok.tl-drift', 'outlineColor')}};
}"""

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.relative_to(NBS).as_posix() for p in NOTEBOOKS])
def test_page(nb, site, browser):
    from tokenlens.render import COLORS
    cells = json.loads(nb.read_text())['cells']
    path = site/page_of(nb)
    assert path.exists(), f"no page for {nb.name}: expected {page_of(nb)}"
    page = browser.new_page(viewport={'width': 1280, 'height': 900})
    external, local_failed, js_errors = [], [], []
    def route(r):  # the network is off: every request that leaves the built site is recorded and refused
        if r.request.url.startswith(('file:', 'data:')): r.continue_()
        else: external.append(r.request.url); r.abort()
    page.route('**/*', route)
    page.on('requestfailed', lambda r: r.url.startswith('file:') and local_failed.append(r.url))
    page.on('pageerror', lambda e: js_errors.append(str(e)))
    try:
        page.goto(path.as_uri(), wait_until='load', timeout=60_000)
        s = page.evaluate(JS_STATE)
    finally: page.close()
    shown = ' '.join(s['text'].split())

    # Offline it still works: nothing local is missing, no script error, and the only external requests are ones the
    # notebook itself makes (e.g. the Colab badge image), none from the page template (no CDN scripts).
    assert not local_failed and not js_errors, (local_failed, js_errors)
    nb_text = nb.read_text()
    assert all(u in nb_text for u in external), f"external requests not from the notebook: {external}"

    # Title, description and every heading of the notebook; every exported name of a module has its reference entry.
    first = _src(cells[0])
    title = _plain(re.match(r'#\s+(.*)', first).group(1))
    assert s['title'].startswith(title), (s['title'], title)
    if (desc := re.search(r'^>\s*(.*)', first, re.M)): assert _plain(desc.group(1)) in shown
    missing = [h for h in headings(cells) if h not in s['headings']]
    assert not missing, f"headings missing from {page_of(nb)}: {missing}"
    missing = [n for n in api_names(cells) if n not in s['headings']]
    assert not missing, f"API reference entries missing from {page_of(nb)}: {missing}"

    # Processed, not raw: no `#|` directive, nothing from `#| hide` cells.
    assert '#|' not in s['text']
    leaked = [l for l in hidden_lines(cells) if ' '.join(l.split()) in shown]
    assert not leaked, f"hidden cells shown on {page_of(nb)}: {leaked}"

    # Navigation reaches every page of the site, and links into the site land on pages that exist.
    nav = {Path(unquote(urlparse(u).path)).resolve() for u in s['nav']}
    assert nav == {(site/page_of(o)).resolve() for o in NOTEBOOKS}
    broken = [u for u in s['links'] if u.startswith('file:') and not Path(unquote(urlparse(u).path)).exists()]
    assert not broken, broken

    # The visualizer's outputs: one legend per output, in the legend colours, and chips coloured by what they are.
    chips, legends = chip_classes(cells)
    assert s['legends'] == legends, f"{s['legends']} legends on the page, {legends} in the notebook's outputs"
    want = {k: rgb(v) for k, v in COLORS.items()}
    for key, vals in s['legend'].items():
        assert vals == [want[key]]*legends, (key, vals)
    for key, vals in s['chips'].items():
        n = sum(f'tl-{key}' in c and (key in ('special', 'bias', 'drift') or 'tl-special' not in c) for c in chips)
        assert vals == [want[key]]*n, f"{key} chips: {len(vals)} on the page {set(vals)}, {n} in the notebook, colour {want[key]}"

    # The project's stylesheet (what _quarto.yml gives Quarto) styles these pages too, loaded from a copy of nbs/styles.css.
    css = yaml.safe_load((NBS/'_quarto.yml').read_text())['format']['html']['css']
    for f in [css] if isinstance(css, str) else css:
        loaded = [Path(unquote(urlparse(u).path)) for u in s['css'] if u.endswith('/' + f)]
        assert loaded and loaded[0].read_bytes() == (NBS/f).read_bytes(), f"{f} not loaded from the site: {s['css']}"

    # Plain-text outputs (print, text reprs, the audit summary) stay preformatted: no line breaks where the text has none
    # (JupyterLab's CSS breaks them mid-word: "max_lengt" / "h"); long lines scroll sideways, columns stay aligned.
    for p in s['textPres']:
        assert (p['whiteSpace'], p['codeWhiteSpace'], p['overflowX']) == ('pre', 'pre', 'auto'), (p['text'][:80], p)
        assert p['scrollWidth'] >= p['clientWidth']
        assert not p['wrapped'], f"text output lines wrapped on {page_of(nb)}: {p['wrapped'][:3]}"
    pre_lines = {l.rstrip() for p in s['textPres'] for l in p['text'].splitlines()}
    missing = [l for l in long_text_lines(cells) if l not in pre_lines]
    assert not missing, f"long output lines not shown as one preformatted line on {page_of(nb)}: {missing[:3]}"

    # Code blocks in markdown (```sh install lines, show_doc signatures) sit in a visible box with room before the next
    # paragraph, and their lines do not wrap either.
    assert len(s['mdCode']) >= md_code_blocks(cells), f"{len(s['mdCode'])} markdown code blocks on the page, {md_code_blocks(cells)} in the notebook"
    for b in s['mdCode']:
        assert b['background'] not in ('transparent', 'rgba(0, 0, 0, 0)') or b['border'] > 0, b
        assert b['padding'] > 0 and b['marginBottom'] > 0, b
        assert b['gap'] is None or b['gap'] >= 8, f"code block runs into the next paragraph: {b}"
        assert not b['wrapped'], b

    # The site's title once in the sidebar (Quarto puts it in the navbar, and the sidebar lists index.ipynb by its title);
    # no page listed twice.
    name = yaml.safe_load((NBS/'_quarto.yml').read_text())['website']['title']
    side = [l.strip() for l in s['sidebar'].splitlines() if l.strip()]
    assert side.count(name) <= 1 and len(s['nav']) == len(set(s['nav'])), side
    assert s['navbar'] and s['navbar'].strip() == name, s['navbar']

    # Home page: install line; tutorials: an Open in Colab link to this very notebook and a hidden Colab install cell.
    if nb == NBS/'index.ipynb': assert 'pip install tokenlens-kit' in shown
    if nb.parent.name == 'tutorials':
        colab = f"https://colab.research.google.com/github/tokenlens/tokenlens/blob/main/nbs/tutorials/{nb.name}"
        assert colab in s['links'], f"no Open in Colab link to {colab}"
        assert any(_hidden(c) and '/content' in _src(c) and 'pip install' in _src(c) and 'tokenlens-kit' in _src(c) for c in cells)
