"""tokenlens.serving against a real llama.cpp server (in process, xllamacpp) and against stand-ins for vLLM, SGLang and
TGI that answer with those servers' documented request and response shapes (those three servers were not run here)."""
import gc, json, socket, threading, time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import pytest
xllamacpp = pytest.importorskip('xllamacpp')
from tokenlens.models import EMBEDDED, embedded_path, load_tokenizer
from tokenlens.serving import (LlamaCppClient, RequestFailed, SGLangClient, ServerError, TGIClient, VLLMClient, connect,
                               http_json, server_check)
from tokenlens.sources import InputError

pytestmark = pytest.mark.slow   # the full suite only: a llama.cpp server in process

GGUF = embedded_path('smollm2')/EMBEDDED['smollm2']['file']

def chat(*turns):
    "A conversation from alternating user and assistant texts."
    return {'messages': [{'role': ('user', 'assistant')[k % 2], 'content': t} for k,t in enumerate(turns)]}

AGREE = [chat('Hi', 'Hello!'), chat('What is 2+2?', 'It is 4.'), chat('Name a colour.', 'Red.', 'Another?', 'Blue.'),
         {'messages': [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Why?'},
                       {'role': 'assistant', 'content': 'Because.'}]},
         {'conversations': [{'from': 'human', 'value': 'Ciao'}, {'from': 'gpt', 'value': 'Ciao! Come stai?'}]},
         {'prompt': 'Capital of France?', 'completion': ' Paris.'},
         {'instruction': 'Say yes.', 'output': 'Yes.'},
         {'prompt': [{'role': 'user', 'content': 'Hey'}], 'completion': [{'role': 'assistant', 'content': 'Hey!'}]},
         chat('Tabs\tand  spaces, émojis 🙂 and 日本語', 'Fine.')]
SPLIT = [chat('Steps:\n\n1. mix', 'Done.'), {'prompt': 'List:\n\n2 eggs\n', 'completion': 'ok'}]

@pytest.fixture(scope='module')
def tok(): return load_tokenizer('smollm2')

def llama_server(template=None):
    p = xllamacpp.CommonParams()
    p.model.path = str(GGUF)
    p.n_ctx, p.cpuparams.n_threads, p.use_jinja, p.verbosity = 512, 1, True, -1
    if template: p.chat_template = template
    return xllamacpp.Server(p)

@pytest.fixture(scope='module')
def llama():
    "One llama.cpp server for the module, on 127.0.0.1."
    s = llama_server()
    assert s.listening_address.startswith('http://127.0.0.1:')
    yield connect(s.listening_address)
    del s
    gc.collect()

def closed_port()->str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"

# the real llama.cpp server

def test_agreeing_dataset_has_no_server_drift(tok, llama):
    rep = server_check(tok, llama, AGREE)
    assert isinstance(llama, LlamaCppClient) and llama.kind == 'llamacpp'
    assert rep.prompts == 10 and not rep.skipped, rep.summary()
    assert rep.counts == Counter(), rep.summary()

def test_text_the_server_splits_otherwise_is_found_with_its_first_divergence(tok, llama):
    rep = server_check(tok, llama, AGREE[:2] + SPLIT)
    assert [r['index'] for r in rep.flagged] == [2, 3], rep.summary()
    for r in rep.flagged:
        (f,) = r['findings']
        assert f.kind == 'server_drift' and r['causes'] == ['tokenizer_split'], f
        assert "training '↵'(198) '↵'(198)" in f.message and "server '↵↵'(1116)" in f.message, f.message
        assert r['text'][f.span[0]:f.span[1]] == '\n\n'
        (where, drift), = r['reports'].items()
        g = drift.regions[0]
        assert drift.expected.ids[g.i0:g.i1] == [198, 198] and drift.actual.ids[g.j0:g.j1] == [1116]
        assert f.token == g.i0

def test_training_without_the_default_system_prompt_drifts_with_its_cause(tok, llama):
    no_default = tok.chat_template.replace("{% if loop.first and messages[0]['role'] != 'system' %}", "{% if false %}")
    assert no_default != tok.chat_template
    rep = server_check(tok, llama, AGREE[:4], chat_template=no_default)
    assert [r['index'] for r in rep.flagged] == [0, 1, 2], rep.summary()   # row 3 has its own system prompt
    assert [len(r['findings']) for r in rep.flagged] == [1, 1, 2]          # row 2: both assistant turns
    assert {c for r in rep.flagged for c in r['causes']} == {'template_text'}
    f = rep.flagged[0]['findings'][0]
    assert 'system prompt training' in f.message and 'You·are·a·helpful' in f.message, f.message

def test_bos_the_server_adds_twice_is_named(tok, llama):
    "A server that adds a BOS to prompts whose template already writes one: SmolLM2's BOS is `<|im_start|>`."
    rep = server_check(tok, llama, AGREE[:1], add_special=True)
    assert rep.counts == Counter()   # the GGUF does not add a BOS (add_bos_token false)
    class AddsBos(LlamaCppClient):
        def tokenize(self, prompt, *a, **k): return [1] + super().tokenize(prompt, *a, **k)
    rep = server_check(tok, AddsBos(llama.url, llama.info), AGREE[:1] + AGREE[5:6])
    assert [r['causes'] for r in rep.results] == [['bos_doubled'], ['bos_added']], rep.summary()

def test_special_text_parsed_differently(tok, llama):
    rep = server_check(tok, llama, AGREE[:1], parse_special=False)
    assert rep.flagged[0]['causes'] == ['special_parsed'], rep.summary()

def test_stop_check_is_right_for_smollm2(tok, llama):
    assert llama.stops_at(2) is True and llama.stops_at(0) is True   # <|im_end|>, <|endoftext|>
    assert llama.stops_at(5) is False                                 # <file_sep>
    assert server_check(tok, llama, AGREE).counts['server_stop'] == 0
    other = tok.chat_template.replace("'<|im_end|>' + '\n'", "'<file_sep>' + '\n'")
    assert other != tok.chat_template
    rep = server_check(tok, llama, AGREE[:1], chat_template=other)
    (f,) = [f for f in rep.results[0]['findings'] if f.kind == 'server_stop']
    assert "'<file_sep>' (5), which the server does not stop at (it stops at '<|im_end|>')" in f.message
    pc = server_check(tok, llama, [{'prompt': 'Hi', 'completion': ' there'}], eos=False)
    (f,) = pc.results[0]['findings']
    assert f.kind == 'server_stop' and 'no special token' in f.message

def test_a_row_that_cannot_be_planned_is_skipped_not_fatal(tok, llama):
    rep = server_check(tok, llama, [{'messages': 'nope'}, {'nothing': 1}, AGREE[0]])
    assert [bool(r['skipped']) for r in rep.results] == [True, True, False]
    assert 'messages must be an array, got a string' in rep.results[0]['skipped']
    assert rep.counts == Counter()

def test_the_server_with_the_training_template_agrees(tok):
    no_default = tok.chat_template.replace("{% if loop.first and messages[0]['role'] != 'system' %}", "{% if false %}")
    s = llama_server(no_default)
    try: assert server_check(tok, connect(s.listening_address), AGREE[:3], chat_template=no_default).counts == Counter()
    finally:
        del s
        gc.collect()

# connecting

def test_a_closed_port_fails_at_once():
    url = closed_port()
    t0 = time.time()
    with pytest.raises(ServerError, match='cannot connect') as e: connect(url)
    assert time.time() - t0 < 3 and isinstance(e.value, InputError)
    assert str(e.value).startswith(f"--server {url}: cannot connect") and len(str(e.value).splitlines()) == 1

@pytest.mark.parametrize('url', ['127.0.0.1:8080', 'ftp://127.0.0.1/', '', None])
def test_an_address_that_is_no_url(url):
    with pytest.raises(ServerError, match='expected an address like http://'): connect(url)

# stand-ins for the servers that were not run: each answers with the documented shapes, from the HF tokenizer

class StandIn:
    "A tiny HTTP server on 127.0.0.1 answering `routes[(method, path)](body) -> (status, json)`; it records requests."
    def __init__(self, routes, delay=0.0):
        self.routes, self.delay, self.requests, self.inflight, self.most = routes, delay, [], 0, 0
        self.lock = threading.Lock()
        me = self
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def _answer(self, method):
                n = int(self.headers.get('Content-Length') or 0)
                body = json.loads(self.rfile.read(n)) if n else None
                with me.lock:
                    me.requests.append((method, self.path, body))
                    me.inflight += 1
                    me.most = max(me.most, me.inflight)
                try:
                    time.sleep(me.delay)
                    f = me.routes.get((method, self.path))
                    status, out = f(body) if f else (404, {'detail': 'Not Found'})
                finally:
                    with me.lock: me.inflight -= 1
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_GET(self): self._answer('GET')
            def do_POST(self): self._answer('POST')
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
    def posts(self, path): return [b for m,p,b in self.requests if m == 'POST' and p == path]

MODEL = 'HuggingFaceTB/SmolLM2-135M-Instruct'

def completions(body):
    "`/v1/completions` of vLLM and SGLang: the forced token ends generation when it is SmolLM2's EOS."
    (tid,) = [int(k) for k in body['logit_bias']]
    return 200, {'id': 'cmpl-1', 'object': 'text_completion', 'model': body.get('model'),
                 'choices': [{'index': 0, 'text': '', 'finish_reason': 'stop' if tid in (0, 2) else 'length',
                              'stop_reason': None}]}

def vllm_routes(tok, extra_bos=False):
    "vLLM's /tokenize: `{prompt}` or `{messages, add_generation_prompt, ...}` -> `{count, max_model_len, tokens}`."
    def tokenize(body):
        if 'messages' in body:
            text = tok.apply_chat_template(body['messages'], tokenize=False,
                                           add_generation_prompt=body.get('add_generation_prompt', True))
            ids = tok.encode(text, add_special_tokens=body.get('add_special_tokens', False))
        else: ids = tok.encode(body['prompt'], add_special_tokens=body.get('add_special_tokens', True))
        ids = [1] + ids if extra_bos else ids
        return 200, {'count': len(ids), 'max_model_len': 8192, 'tokens': ids, 'token_strs': None}
    return {('GET', '/version'): lambda b: (200, {'version': '0.32.0'}),
            ('GET', '/v1/models'): lambda b: (200, {'object': 'list',
                                                    'data': [{'id': MODEL, 'object': 'model', 'owned_by': 'vllm'}]}),
            ('POST', '/tokenize'): tokenize,
            ('POST', '/detokenize'): lambda b: (200, {'prompt': tok.decode(b['tokens'])}),
            ('POST', '/v1/completions'): completions}

def sglang_routes(tok):
    "SGLang's /tokenize takes `{prompt, add_special_tokens}` only."
    def tokenize(body):
        if 'prompt' not in body: return 400, {'object': 'error', 'message': 'prompt is required', 'code': 400}
        ids = tok.encode(body['prompt'], add_special_tokens=body.get('add_special_tokens', True))
        return 200, {'tokens': ids, 'count': len(ids), 'max_model_len': 8192}
    info = {'model_path': MODEL, 'tokenizer_path': MODEL, 'is_generation': True}
    return {('GET', '/get_model_info'): lambda b: (200, info),
            ('GET', '/get_server_info'): lambda b: (200, {'version': '0.5.4', 'model_path': MODEL}),
            ('POST', '/tokenize'): tokenize,
            ('POST', '/detokenize'): lambda b: (200, {'text': tok.decode(b['tokens'])}),
            ('POST', '/v1/completions'): completions}

def tgi_routes(tok, refuse=None):
    "TGI: `/chat_tokenize` -> `{tokenize_response: [{id, text, start, stop}], templated_text}`, `/tokenize` -> a list."
    def simple(text):
        enc = tok(text, add_special_tokens=True, return_offsets_mapping=True)
        pairs = zip(enc['input_ids'], enc['offset_mapping'])
        return [{'id': i, 'text': text[s:e], 'start': s, 'stop': e} for i,(s,e) in pairs]
    def chat_tokenize(body):
        text = tok.apply_chat_template(body['messages'], tokenize=False, add_generation_prompt=True)
        if refuse and refuse in text:
            return 422, {'error': 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 512',
                         'error_type': 'validation'}
        return 200, {'tokenize_response': simple(text), 'templated_text': text}
    info = {'model_id': MODEL, 'model_sha': None, 'max_input_tokens': 4095, 'max_total_tokens': 4096,
            'router': 'text-generation-router', 'version': '3.3.4', 'sha': None}
    return {('GET', '/info'): lambda b: (200, info),
            ('POST', '/chat_tokenize'): chat_tokenize,
            ('POST', '/tokenize'): lambda b: (200, simple(b['inputs']))}

@pytest.fixture
def standin():
    made = []
    def make(routes, **kw):
        made.append(StandIn(routes, **kw))
        return made[-1]
    yield make
    for s in made: s.close()

def test_vllm_client(tok, standin):
    s = standin(vllm_routes(tok))
    c = connect(s.url)
    assert isinstance(c, VLLMClient) and c.version == '0.32.0' and c.info['model'] == MODEL
    rep = server_check(tok, c, AGREE + SPLIT)
    assert rep.counts == Counter() and rep.prompts == 12, rep.summary()   # the stand-in tokenizes as training does
    chats = [b for b in s.posts('/tokenize') if 'messages' in b]
    assert chats and all(b['add_generation_prompt'] is True and b['add_special_tokens'] is False for b in chats)
    assert all(b['model'] == MODEL for b in chats)
    texts = [b for b in s.posts('/tokenize') if 'prompt' in b]
    assert texts and all(b['add_special_tokens'] is True for b in texts)
    assert {tuple(b['logit_bias']) for b in s.posts('/v1/completions')} == {('2',)}
    assert c.detokenize([26843, 1116, 33]) == 'Hi\n\n1'

def test_vllm_stand_in_that_adds_a_bos(tok, standin):
    c = connect(standin(vllm_routes(tok, extra_bos=True)).url, kind='vllm')
    rep = server_check(tok, c, AGREE[:1])
    assert rep.flagged[0]['causes'] == ['bos_doubled'], rep.summary()
    msg = rep.flagged[0]['findings'][0].message
    assert msg.startswith('messages[1]: first divergence at token 1 (training) / 1 (server)'), msg

def test_sglang_client(tok, standin):
    s = standin(sglang_routes(tok))
    c = connect(s.url)
    assert isinstance(c, SGLangClient) and c.version == '0.5.4' and not c.chat
    rep = server_check(tok, c, AGREE[:2] + AGREE[5:6])
    assert rep.counts == Counter() and any('does not render conversations' in n for n in rep.notes), rep.summary()
    assert all(set(b) == {'prompt', 'add_special_tokens'} for b in s.posts('/tokenize'))
    with pytest.raises(RequestFailed, match='takes text only'): c.tokenize([{'role': 'user', 'content': 'Hi'}])
    assert c.detokenize([26843]) == 'Hi'

def test_tgi_client_and_a_refused_row(tok, standin):
    s = standin(tgi_routes(tok, refuse='refuse me'))
    c = connect(s.url)
    assert isinstance(c, TGIClient) and c.version == '3.3.4'
    hi = [{'role': 'user', 'content': 'Hi'}]
    assert c.render(hi) == tok.apply_chat_template(hi, tokenize=False, add_generation_prompt=True)
    rep = server_check(tok, c, AGREE[:2] + [chat('please refuse me', 'no')])
    assert [f.kind for r in rep.results for f in r['findings']] == ['server_error'], rep.summary()
    f = rep.results[2]['findings'][0]
    assert 'HTTP 422: Input validation error' in f.message and f.message.startswith('messages[1]:')
    assert any('cannot be asked where it stops' in n for n in rep.notes)

def test_a_kind_that_does_not_answer_as_itself(tok, standin):
    s = standin(vllm_routes(tok))
    with pytest.raises(ServerError, match=r'is no tgi server \(tgi: GET /info: HTTP 404: Not Found\)'):
        connect(s.url, kind='tgi')

def test_an_http_server_that_is_no_inference_server(standin):
    s = standin({('GET', '/props'): lambda b: (200, {'hello': 'world'})})
    t0 = time.time()
    with pytest.raises(ServerError, match='answers, but is no llama.cpp, vLLM, SGLang or TGI server') as e:
        connect(s.url)
    assert time.time() - t0 < 3
    assert 'llamacpp: GET /props answered, but not as llamacpp does' in str(e.value)

def test_busy_server_is_retried_a_bounded_number_of_times(standin):
    calls = []
    def flaky(body):
        calls.append(1)
        return (503, {'error': {'message': 'loading model'}}) if len(calls) < 3 else (200, {'ok': True})
    s = standin({('POST', '/x'): flaky})
    assert http_json(s.url + '/x', {}, retries=2, backoff=0.01) == {'ok': True} and len(calls) == 3
    calls.clear()
    with pytest.raises(RequestFailed, match='HTTP 503: loading model') as e:
        http_json(s.url + '/x', {}, retries=1, backoff=0.01)
    assert len(calls) == 2 and e.value.status == 503

def test_a_slow_server_times_out(standin):
    s = standin({('GET', '/slow'): lambda b: (200, {})}, delay=1.0)
    t0 = time.time()
    with pytest.raises(RequestFailed, match='timed out'):
        http_json(s.url + '/slow', timeout=0.2, retries=1, backoff=0.01)
    assert time.time() - t0 < 1.5

def test_requests_in_flight_are_bounded(tok, standin):
    s = standin(vllm_routes(tok), delay=0.05)
    c = connect(s.url)
    s.most = 0
    server_check(tok, c, AGREE * 2, concurrency=3, stop=False)
    assert 2 <= s.most <= 3, s.most
