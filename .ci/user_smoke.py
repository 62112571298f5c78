"Imports every public module of an installed tokenlens without torch and runs each layer once (CI, fresh venv)."
import importlib, importlib.util, sys
import fastcore

assert importlib.util.find_spec('torch') is None, 'this check is for an install without torch'
mods = ['core', 'render', 'models', 'chat', 'plan', 'formats', 'files', 'sources', 'findings', 'drift', 'masking', 'healing', 'viz', 'compare',
        'checks', 'report', 'engines', 'audit']
for m in mods: importlib.import_module(f'tokenlens.{m}')
import tokenlens
assert 'site-packages' in tokenlens.__file__, f'imported the clone, not the install: {tokenlens.__file__}'
from tokenlens.models import load_tokenizer
from tokenlens.core import tokenize
from tokenlens.drift import concat_drift
from tokenlens.masking import mask_chat, MaskCollator
from tokenlens.healing import boundary_bias, healed_generate
tok = load_tokenizer('smollm2')
assert tokenize(tok, 'http://x').ids, 'no ids'
assert not concat_drift(tok, ['http:', '//x']).equal
m = mask_chat(tok, [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello there'}])
assert m.trainable >= 3, m
assert boundary_bias(tok, 'see http:').biased
for f in (lambda: MaskCollator(tok), lambda: healed_generate(None, tok, 'Hi')):
    try: f(); raise AssertionError('expected the needs-torch error')
    except ImportError as e: assert 'tokenlens-kit[torch]' in str(e), e
# a folder laid out like a Hub dataset repo (two splits, a loading configuration), read through `datasets` as installed
import json, tempfile
from pathlib import Path
from tokenlens.audit import audit
repo = Path(tempfile.mkdtemp())/'repo'; (repo/'data').mkdir(parents=True)
chat = json.dumps({'dialog': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello'}]})
for split in ('train', 'test'): (repo/'data'/f'{split}.jsonl').write_text(chat + '\n' + chat + '\n')
(repo/'README.md').write_text("---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train.jsonl\n"
                              "  - split: test\n    path: data/test.jsonl\n---\n")
rep = audit(str(repo), tok, split='test', fields={'messages': 'dialog'})
assert (len(rep), rep.clean, rep.rows.where[1].line) == (2, True, 2), (len(rep), rep.summary())
try: audit(str(repo), tok, split='test', fields={'messages': 'dialog'}, engine='ray'); raise AssertionError('expected the ray-extra error')
except ImportError as e: assert 'tokenlens-kit[ray]' in str(e), e
from tokenlens.compare import trl_labels
try: trl_labels(tok, [{'prompt': 'a', 'completion': 'b'}]); raise AssertionError('expected the train-extra error')
except ImportError as e: assert 'tokenlens-kit[train]' in str(e), e
assert 'torch' not in sys.modules or sys.modules['torch'] is None
print(f"imported {len(mods)} modules without torch; fastcore {fastcore.__version__}; python {sys.version.split()[0]}")
