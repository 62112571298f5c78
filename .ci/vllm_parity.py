"Server parity against a real vLLM server: `python .ci/vllm_parity.py URL` (the server serves SmolLM2's own files)."
import sys, time
from tokenlens.audit import DEMO
from tokenlens.models import load_tokenizer
from tokenlens.servers import connect
from tokenlens.serving import server_check
from tokenlens.sources import BadRow, read_rows

tok, c = load_tokenizer('smollm2'), connect(sys.argv[1] if len(sys.argv) > 1 else 'http://127.0.0.1:8431', kind='vllm')
print(c)
# the same files on both sides: the demo's rows reach the model as training encodes them
rows = [r for r in read_rows(DEMO).rows if not isinstance(r, BadRow)]
rep = server_check(tok, c, rows)
assert not any(r['findings'] for r in rep.results) and rep.results, rep
print('demo:', rep)
# a hand-built ChatML template without SmolLM2's default system prompt: found, with the cause
plain = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
         "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
chat = [{'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'}]}]
found = server_check(tok, c, chat, chat_template=plain).results[0]['findings']
assert [f.kind for f in found] == ['server_drift'] and 'system prompt' in found[0].message, found
print('hand-built template:', found[0].message[:160])
# where it stops: at <|im_end|>, not at a word
assert c.stops_at(tok.convert_tokens_to_ids('<|im_end|>')) is True and c.stops_at(tok.encode('Hello')[0]) is False
rows = [{'messages': [{'role': 'user', 'content': f'Question {k}: what is {k}+{k}?'}, {'role': 'assistant', 'content': str(2*k)}]}
        for k in range(400)]
t = time.perf_counter(); rep = server_check(tok, c, rows, stop=False); dt = time.perf_counter() - t
assert not any(r['findings'] for r in rep.results), rep
print(f"400 chat rows in {dt:.2f} s ({400/dt:.0f} rows/s), no findings")
