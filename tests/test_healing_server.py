"""Token healing through a server: against llama.cpp's real server (in process, xllamacpp), and the request shapes for
vLLM, SGLang and TGI against stand-ins that answer as those servers document (those three servers were not run)."""
import gc, re
import pytest
xllamacpp = pytest.importorskip('xllamacpp')
from hypothesis import given, settings, strategies as st
from test_serving import MODEL, StandIn, sglang_routes, tgi_routes, vllm_routes
from tokenlens.core import bytes_table
from tokenlens.healing import continue_prompt, healed_generate
from tokenlens.models import load_tokenizer
from tokenlens.servers import RequestFailed, SGLangClient, ServerError, TGIClient, VLLMClient, connect, llama_server

pytestmark = pytest.mark.slow   # the full suite only: a llama.cpp server in process

PROMPTS = ['The link is <a href="http:', 'def add(a, b):\n    return a +', 'Say hi ', 'The capital of France is',
           'x = "a\\"b" + [1, 2', 'The Russian word for "hello" starts with П']

@pytest.fixture(scope='module')
def tok(): return load_tokenizer('smollm2')

@pytest.fixture(scope='module')
def llama():
    s = llama_server()
    yield connect(s.listening_address)
    del s
    gc.collect()

# the real llama.cpp server

def test_healed_batch_starts_with_each_prompt_and_regrows_it(tok, llama):
    res = healed_generate(llama.url, tok, PROMPTS, max_new_tokens=10)
    assert [r.prompt for r in res] == PROMPTS
    for r in res:
        assert r.text.startswith(r.prompt) and r.complete, r
        assert tok.decode(r.new_ids, skip_special_tokens=True).startswith(r.removed), r
    assert [r.removed for r in res][:4] == [':', ' +', ' ', ' is']
    assert res[5].removed == ' П'   # backed off to the character's first byte

def test_ids_and_text_prompts_agree_where_the_tokenizers_do(tok, llama):
    by_ids = healed_generate(llama, tok, PROMPTS[:4], max_new_tokens=8)
    by_text = healed_generate(llama, tok, PROMPTS[:4], max_new_tokens=8, send_ids=False)
    assert [r.text for r in by_ids] == [r.text for r in by_text]

def test_max_backoff_zero_is_plain_generation(tok, llama):
    r = healed_generate(llama, tok, 'Say hi ', max_backoff=0, max_new_tokens=4)
    plain = llama.generate(tok.encode('Say hi '), 4)
    assert (r.removed, r.text) == ('', 'Say hi ' + plain.text)

def test_chat_continues_the_partial_answer(tok, llama):
    chat = [{'role': 'user', 'content': 'Greet me.'}, {'role': 'assistant', 'content': 'Say hi '}]
    r = healed_generate(llama, tok, chat, max_new_tokens=6)
    assert r.prompt == continue_prompt(tok, chat) and r.prompt.endswith('<|im_start|>assistant\nSay hi ')
    assert r.text.startswith(r.prompt) and r.removed == ' ' and r.complete
    two = healed_generate(llama, tok, [chat, chat[:1] + [{'role': 'assistant', 'content': 'Hello,'}]], max_new_tokens=4)
    assert len(two) == 2 and all(x.text.startswith(x.prompt) for x in two)

@settings(max_examples=12, deadline=None)
@given(st.text(st.sampled_from(list('ab :/."\\\n\t()[]*+?語🙂éП')), min_size=1, max_size=12))
def test_any_prompt_regrows_through_the_grammar(tok, llama, text):
    "GBNF escaping and whole characters, whatever the prompt's last characters are."
    r = healed_generate(llama, tok, 'Text: ' + text, max_new_tokens=12)
    assert r.text.startswith(r.prompt)
    table = bytes_table(tok)
    assert b''.join(table[i] for i in r.removed_ids).decode() == r.removed
    assert r.complete or len(r.new_ids) == 12, r   # it regrows, unless the budget ran out mid-regrowth

def test_options_and_errors(tok, llama):
    with pytest.raises(TypeError, match='num_beams'): healed_generate(llama, tok, 'Hi', num_beams=2)
    with pytest.raises(TypeError, match='server must be a URL or a client'):
        from tokenlens.healing import server_healed_generate
        server_healed_generate(3, tok, 'Hi')
    with pytest.raises(RequestFailed, match=f'llamacpp {llama.version} refused 2 prompt token ids and a GBNF grammar'):
        healed_generate(llama, tok, 'Say hi ', params={'n_probs': 'many'}, max_new_tokens=2)

# stand-ins: each "model" continues a prompt with the rest of the full text it was cut from, then " world";
# a constraint is checked with Python's `re` (the regex must accept exactly the healed continuation)

def continuation(tok, sent:str, regex:str=None):
    "(status, text): the rest of the prompt `sent` was cut from, or 400 when `regex` rejects it."
    full = next((p for p in PROMPTS if p.startswith(sent)), sent)
    text = full[len(sent):] + ' world'
    if regex is not None and not re.fullmatch(regex, text): return 400, f"{text!r} does not match {regex!r}"
    if regex is not None and full[len(sent):] and re.fullmatch(regex, 'Z'): return 400, 'the regex is too loose'
    return 200, text

def vllm_generate(tok, seen):
    def gen(body):
        seen.append(body)
        rx = (body.get('structured_outputs') or {}).get('regex', body.get('guided_regex'))
        status, text = continuation(tok, tok.decode(body['prompt']), rx)
        if status != 200: return status, {'object': 'error', 'message': text}
        return 200, {'choices': [{'index': 0, 'text': text, 'token_ids': tok.encode(text), 'finish_reason': 'length'}]}
    return gen

@pytest.fixture
def standin():
    made = []
    def make(routes):
        made.append(StandIn(routes))
        return made[-1]
    yield make
    for s in made: s.close()

def check(res, prompts=PROMPTS):
    "Each result is its prompt, healed, then the stand-in's ' world'."
    assert [r.prompt for r in res] == prompts
    assert all(r.complete and r.text == r.prompt + ' world' for r in res), res

def test_vllm_request_shape(tok, standin):
    seen = []
    s = standin({**vllm_routes(tok), ('POST', '/v1/completions'): vllm_generate(tok, seen)})
    c = connect(s.url)
    assert isinstance(c, VLLMClient)
    check(healed_generate(c, tok, PROMPTS, max_new_tokens=7))
    b = seen[0]
    assert b['model'] == MODEL and b['max_tokens'] == 7 and b['temperature'] == 0 and b['return_token_ids'] is True
    assert all(isinstance(i, int) for i in b['prompt']) and b['structured_outputs'] == {'regex': ':[\\s\\S]*'}

def test_old_vllm_gets_guided_regex(tok, standin):
    seen = []
    routes = {**vllm_routes(tok), ('POST', '/v1/completions'): vllm_generate(tok, seen),
              ('GET', '/version'): lambda b: (200, {'version': '0.9.2'})}
    check(healed_generate(connect(standin(routes).url), tok, PROMPTS[:2], max_new_tokens=7), PROMPTS[:2])
    assert 'structured_outputs' not in seen[0] and seen[0]['guided_regex'] == ':[\\s\\S]*'

def test_sglang_request_shape(tok, standin):
    seen = []
    def gen(body):
        seen.append(body)
        status, text = continuation(tok, tok.decode(body['input_ids']), body['sampling_params'].get('regex'))
        if status != 200: return status, {'error': {'message': text}}
        return 200, {'text': text, 'output_ids': tok.encode(text), 'meta_info': {'finish_reason': {'type': 'length'}}}
    c = connect(standin({**sglang_routes(tok), ('POST', '/generate'): gen}).url)
    assert isinstance(c, SGLangClient)
    check(healed_generate(c, tok, PROMPTS, max_new_tokens=5, do_sample=True, temperature=0.5))
    assert set(seen[0]) == {'input_ids', 'sampling_params'}
    assert seen[0]['sampling_params'] == {'max_new_tokens': 5, 'temperature': 0.5, 'regex': ':[\\s\\S]*'}

def test_tgi_request_shape_text_only(tok, standin):
    seen = []
    def gen(body):
        seen.append(body)
        g = body['parameters'].get('grammar')
        status, text = continuation(tok, body['inputs'], g and g['value'])
        if status != 200: return 422, {'error': text, 'error_type': 'validation'}
        toks = [{'id': i, 'text': tok.decode([i]), 'logprob': -1.0, 'special': False} for i in tok.encode(text)]
        return 200, {'generated_text': text, 'details': {'finish_reason': 'length', 'tokens': toks}}
    c = connect(standin({**tgi_routes(tok), ('POST', '/generate'): gen}).url)
    assert isinstance(c, TGIClient) and not c.takes_ids
    check(healed_generate(c, tok, PROMPTS, max_new_tokens=6))
    p = seen[0]['parameters']
    assert seen[0]['inputs'] == 'The link is <a href="http' and p['grammar'] == {'type': 'regex', 'value': ':[\\s\\S]*'}
    assert p['do_sample'] is False and 'temperature' not in p and p['details'] is True
    with pytest.raises(ServerError, match=r'tgi 3\.3\.4 at .* takes prompts as text only'):
        healed_generate(c, tok, 'Hi there', send_ids=True)

def test_a_refusal_names_the_server_and_what_was_asked(tok, standin):
    routes = {**tgi_routes(tok), ('POST', '/generate'): lambda b: (422, {'error': 'Grammar is not supported',
                                                                         'error_type': 'validation'})}
    c = connect(standin(routes).url)
    with pytest.raises(RequestFailed, match=r"tgi 3\.3\.4 refused a 25-character prompt and a regex constraint: HTTP 422"):
        healed_generate(c, tok, PROMPTS[0])
