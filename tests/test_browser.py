"""The TokenViewer widget in a real JupyterLab, driven by headless Chromium through Playwright.
Needs Debian's chromium (installed by .ci/run) and the playwright package (dev extra; never `playwright install`)."""
import json, os, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group('browser')]

ARTIFACTS = Path(__file__).resolve().parent.parent/'test-artifacts'

CELLS = ["import os; os.environ['HF_HUB_OFFLINE'] = '1'",
         "from tokenlens.models import load_tokenizer\nfrom tokenlens.masking import mask_segments\nfrom tokenlens.viz import TokenViewer",
         "smol = load_tokenizer('smollm2')\n"
         "examples = [mask_segments(smol, [{'text': 'Translate: dog\\n', 'label': False}, {'text': 'perro', 'label': True}]),\n"
         "            mask_segments(smol, [{'text': 'Link: http:', 'label': False}, {'text': '//example.com', 'label': True}]),\n"
         "            mask_segments(smol, [{'text': 'only a prompt', 'label': False}])]\n"
         "TokenViewer(examples)"]

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def lab(tmp_path_factory, chromium_launch):
    root = tmp_path_factory.mktemp('lab')
    nb = {'cells': [{'cell_type': 'code', 'metadata': {}, 'execution_count': None, 'outputs': [], 'id': f'c{k}', 'source': c}
                    for k,c in enumerate(CELLS)],
          'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}}, 'nbformat': 4, 'nbformat_minor': 5}
    (root/'viewer.ipynb').write_text(json.dumps(nb))
    port = _free_port()
    log = open(root/'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--allow-root', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             '--ServerApp.token=', '--ServerApp.password=', '--ServerApp.disable_check_xsrf=True',
                             f'--ServerApp.root_dir={root}', '--LabApp.expose_app_in_browser=True'],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, HF_HUB_OFFLINE='1'))
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try: urllib.request.urlopen(url + '/api', timeout=2); break
            except Exception: time.sleep(0.5)
        else: pytest.fail('JupyterLab did not start: ' + (root/'lab.log').read_text()[-2000:])
        yield url
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

def test_token_viewer_in_jupyterlab(lab, chromium_launch):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_launch)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            page.goto(lab + '/lab/tree/viewer.ipynb?reset')
            page.wait_for_function("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                                   " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
                                   " return k && k.status === 'idle'; }", timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector('.tl-viewer .tl-where', timeout=180_000)
            where = lambda: page.inner_text('.tl-viewer .tl-where')
            masked = lambda: page.locator('.tl-viewer .tl-tok.tl-masked').count()
            # problems first: the example with nothing to train is shown first, all grey
            assert 'example 1 of 3' in where()
            assert masked() == 3
            bg = page.eval_on_selector('.tl-viewer .tl-tok.tl-masked', 'e => getComputedStyle(e).backgroundColor')
            assert bg == 'rgb(222, 222, 222)', bg
            # switching the label layer off removes the label colours
            page.click('.tl-viewer button:has-text("label")')
            page.wait_for_function("document.querySelectorAll('.tl-viewer .tl-tok.tl-masked').length === 0", timeout=30_000)
            # next example: the straddling `://`
            page.click('.tl-viewer button:has-text("next")')
            page.wait_for_function("document.querySelector('.tl-viewer .tl-where').innerText.includes('example 2 of 3')", timeout=30_000)
            page.click('.tl-viewer button:has-text("label")')
            page.wait_for_selector('.tl-viewer .tl-tok.tl-straddle', timeout=30_000)
            straddle = page.eval_on_selector('.tl-viewer .tl-tok.tl-straddle', 'e => [e.innerText, getComputedStyle(e).backgroundColor]')
            assert straddle == ['://', 'rgb(255, 199, 102)'], straddle
            assert page.locator('.tl-viewer .tl-tok.tl-trained').count() == 3
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator('.tl-viewer').screenshot(path=str(ARTIFACTS/'token_viewer.png'))
        finally: browser.close()

def test_audit_report_opens_offline(tmp_path, chromium_launch):
    "The HTML report from `tokenlens audit --report` draws in Chromium with no request beyond the file itself."
    from playwright.sync_api import sync_playwright
    out = tmp_path/'audit.html'
    r = subprocess.run(['tokenlens', 'audit', '--quiet', '--report', str(out)], capture_output=True, text=True,
                       env=dict(os.environ, HF_HUB_OFFLINE='1'), timeout=300)
    assert r.returncode == 1 and out.exists(), r.stderr
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_launch)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            requests = []
            page.on('request', lambda req: requests.append(req.url))
            page.goto(out.as_uri(), wait_until='load')
            assert requests == [out.as_uri()], requests          # nothing else: no CDN, no fonts, no scripts
            assert page.title() == 'tokenlens audit: demo.jsonl'
            kinds = page.eval_on_selector_all('table.tl-audit td code', 'es => es.map(e => e.innerText)')
            assert kinds == ['bad_row', 'nothing_to_train', 'special_text', 'straddle', 'drift', 'truncated', 'boundary_bias'], kinds   # errors first
            straddle = page.eval_on_selector('.tl-audit-row .tl-tok.tl-straddle', 'e => [e.innerText, getComputedStyle(e).backgroundColor]')
            assert straddle == ['://', 'rgb(255, 199, 102)'], straddle
            masked = page.eval_on_selector('.tl-audit-row .tl-tok.tl-masked:not(.tl-special)', 'e => getComputedStyle(e).backgroundColor')
            assert masked == 'rgb(222, 222, 222)', masked
            assert page.locator('.tl-audit-row').count() == 16     # up to three rows drawn per kind
            assert page.locator('.tl-legend').count() == 1           # the legend once
            ringed = page.eval_on_selector_all('#tl-special_text .tl-focus', 'es => es.map(e => [e.innerText, getComputedStyle(e).borderTopColor])')
            assert ringed and all(c == 'rgb(31, 111, 235)' for _,c in ringed), ringed   # the user's special-token text, ringed in blue
            assert any('endoftext' in t or 'im_end' in t or 'im_start' in t for t,_ in ringed), ringed
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS/'audit_report.png'), full_page=False)
        finally: browser.close()
