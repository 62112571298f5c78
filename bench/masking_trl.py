"""tokenlens masking against TRL's own SFT dataset preparation, for the same rows, side by side in one run.

Run from the bench dir:  cd bench && HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python masking_trl.py [--rows N] [--reps 3]

What is timed
-------------
TRL side: `SFTTrainer._prepare_dataset` (trl/trainer/sft_trainer.py), the method the `SFTTrainer` constructor calls on
`train_dataset`. An `SFTTrainer` is built once per path (on the SmolLM2-135M model from `tokenlens.models.load_model`,
with an 8-row dataset so construction is cheap), and then its `_prepare_dataset(dataset, tokenizer, args, packing=False,
formatting_func=None, dataset_name='train')` is called on the full benchmark dataset, exactly as the constructor calls it.
Model loading, accelerator setup and the constructor's template checks are therefore not in the timing; the whole data
pipeline is: the `add_eos` pass (prompt/completion only), the per-example `tokenize_fn` map (`apply_chat_template(...,
return_assistant_tokens_mask=True)`, or two plain tokenizer calls + `common_prefix_length` for prompt/completion), the
`build_labels` map, and, since `max_length` is set (TRL's default 1024), the `truncate` map and the fully-masked `filter`.

tokenlens side: `datasets.Dataset.map(mask_rows, batched=True, with_indices=True, fn_kwargs=...)` on the same `Dataset`,
with `max_length` set to the same value (a row of `mask_rows` called on plain Python lists is shown too, for reference).

Paths (both on the SmolLM2-135M-Instruct tokenizer):
* assistant-only (`messages`): TRL `SFTConfig(assistant_only_loss=True)`. SmolLM2's own template has no `{% generation %}`
  markers and TRL has no training template for it (`get_training_chat_template` raises), so TRL is given, through
  `SFTConfig(chat_template_path=...)` on a copy of the tokenizer, the ChatML training template TRL ships for Qwen2.5
  (`trl/chat_templates/qwen2_5_training.jinja`). tokenlens is given the same template (`chat_template=`), so both sides
  render byte-identical text and see identical token ids; only the masking differs. (Its default system prompt is
  Qwen's rather than SmolLM's; a row with tokenlens on SmolLM2's own template is printed for reference.)
* completion-only (`prompt`/`completion` strings): TRL `completion_only_loss=True` (no chat template involved; TRL
  appends the EOS text to the completion), tokenlens `format='prompt_completion'` (also appends the EOS text, `eos=True`).

Rows: `conversations()` from masking.py pairs docstring paragraphs (0,1), (2,3), ... and then, with an offset of one,
(1,2), (3,4), ..., giving ~11,700 distinct conversations (each paragraph appears once as a user turn and once as an
assistant turn). The prompt/completion rows are the same pairs: prompt = user paragraph + '\\n', completion = assistant
paragraph. `--rows` cuts the list shorter.

Fairness: torch pinned to 1 thread; no `num_proc` on either side, so every `map` runs in this process. (With datasets
5.x, `num_proc=1` is not "no multiprocessing": `Dataset.map` then starts an `mp.Pool(1)` worker for each pass, so TRL's
`dataset_num_proc=1` pays a process start and an Arrow round trip per pass; that setting is shown as an extra TRL row,
and the ratios are against TRL in-process, its default `dataset_num_proc=None`.) `datasets` caching
disabled (neither side can read a cache), progress bars off, and the Rust tokenizers' own thread pool off
(TOKENIZERS_PARALLELISM=false: TRL tokenizes one example per call and could not use it, tokenlens' batched encode would
otherwise use every core); pass --tokenizer-threads to let tokenlens use it. Each repetition runs every case in turn,
alternating tokenlens and TRL; the best of `--reps` is reported.

Template note: TRL's Qwen2.5 training template opens `{% generation %}` before the '\\n' that follows 'assistant' and
closes it after the '\\n' that follows '<|im_end|>', so with it TRL also trains those two newline tokens; tokenlens trains
the message content (plus whitespace-only tokens leading into it, its 'absorbed' state) and the end-of-turn token.

Correctness: the trained tokens (labels != -100) of each side are compared on every row of the last repetition (same
input ids are checked first), and one disagreeing row is decoded. A hand-made boundary row ('Link: http:' +
'//example.com', where '://' is one token) shows how each side treats a token that straddles prompt and completion.
"""
import argparse, tempfile, copy, logging, os, sys, time, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('OMP_NUM_THREADS', '1')
if '--tokenizer-threads' not in sys.argv: os.environ['TOKENIZERS_PARALLELISM'] = 'false'
import torch; torch.set_num_threads(1)
import datasets, tokenizers, transformers, trl
from pathlib import Path
from corpus import stdlib_docstrings
from masking import conversations
import tokenlens
from tokenlens.models import load_tokenizer, load_model
from tokenlens.masking import mask_rows, MaskSummary, MASK

QWEN_TRAINING = Path(trl.__file__).parent/'chat_templates'/'qwen2_5_training.jinja'
SCRATCH = Path(tempfile.mkdtemp(prefix='masking_trl_'))

def rows(n):
    "`n` user/assistant conversations from masking.conversations() (paragraph pairs (0,1), (2,3), … then offset by one)."
    return conversations(n)

class TRLWarnings(logging.Filter):
    "Keeps TRL's SFT warnings (printed once at the end) instead of letting every dataset pass print them again."
    def __init__(self): super().__init__(); self.seen = {}
    def filter(self, record):
        m = record.getMessage(); self.seen[m] = self.seen.get(m, 0) + 1; return False

def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

def trl_trainer(model, tok, train_rows, **cfg):
    "An SFTTrainer built on a few rows, used only for its `_prepare_dataset`."
    from trl import SFTConfig, SFTTrainer
    args = SFTConfig(output_dir=str(SCRATCH/'out'), report_to='none', use_cpu=True, bf16=False, dataset_num_proc=None,
                     save_strategy='no', logging_strategy='no', **cfg)
    tr = SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_dict(train_rows), processing_class=tok)
    one = copy.copy(tr.args); one.dataset_num_proc = 1
    prep = lambda ds, num_proc=None: tr._prepare_dataset(ds, tr.processing_class, one if num_proc == 1 else tr.args,
                                                          False, None, 'train')
    return tr, prep

def trained(ids, labels): return [i for i,l in zip(ids, labels) if l != MASK]
def trained_mask(labels): return [l != MASK for l in labels]

def compare(tok, name, tl, tr, show=1, pc=None):
    "Row-by-row comparison of trained tokens: counts, the tokens on which the sides differ, and one decoded example."
    from collections import Counter
    n, same_ids, agree, ws_only, diff_rows, kinds = len(tl['input_ids']), 0, 0, 0, [], Counter()
    for k in range(n):
        ids = a_ids = tl['input_ids'][k]; b_ids = tr['input_ids'][k]
        if a_ids != b_ids: diff_rows.append((k, 'ids')); continue
        same_ids += 1
        a, b = trained_mask(tl['labels'][k]), trained_mask(tr['labels'][k])
        if a == b: agree += 1; continue
        extra = [i for i,(x,y) in enumerate(zip(a, b)) if x != y]
        for i in extra:
            where = f"after {tok.decode(ids[max(0, i-2):i])!r}" if i else 'at the start'
            kinds['TRL only' if b[i] else 'tokenlens only', repr(tok.decode([ids[i]])), where] += 1
        if all(not tok.decode([a_ids[i]]).strip() for i in extra): ws_only += 1
        diff_rows.append((k, 'labels'))
    print(f"\n[{name}] {n} rows: identical input_ids in {same_ids}; identical trained tokens in {agree}/{n}; "
          f"of the {n-agree} that disagree, {ws_only} differ only on whitespace-only tokens")
    for (who, t, where), c in kinds.most_common(6): print(f"  {c:>6} x token {t} ({where}) trained by {who}")
    for k, why in diff_rows[:show]:
        ids_a, ids_b = tl['input_ids'][k], tr['input_ids'][k]
        print(f"  e.g. row {k} ({'different input_ids' if why == 'ids' else 'different trained tokens'}):")
        if pc is not None and why == 'labels':
            first = min(i for i,(x,y) in enumerate(zip(tl['labels'][k], tr['labels'][k])) if (x == MASK) != (y == MASK))
            print(f"    prompt ends {pc['prompt'][k][-16:]!r}, completion starts {pc['completion'][k][:16]!r}")
            print(f"    prompt+completion tokens near the boundary: {[tok.decode([i]) for i in ids_a[max(0, first-3):first+3]]}")
            print(f"    prompt alone ends with tokens:               {[tok.decode([i]) for i in tok(pc['prompt'][k])['input_ids'][-3:]]}")
        print(f"    tokenlens trains: {tok.decode(trained(ids_a, tl['labels'][k]))!r}")
        print(f"    TRL trains:       {tok.decode(trained(ids_b, tr['labels'][k]))!r}")
    return {k for k in range(n) if k not in dict(diff_rows)}

def trl_prefix_breaks(tok, pc):
    "Rows where TRL's tokenized prompt is not a prefix of its tokenized prompt+completion+EOS (TRL's warning case)."
    P = [e.ids for e in tok.backend_tokenizer.encode_batch(pc['prompt'], add_special_tokens=False)]
    F = [e.ids for e in tok.backend_tokenizer.encode_batch([p + c + tok.eos_token for p,c in zip(pc['prompt'], pc['completion'])],
                                                           add_special_tokens=False)]
    return [k for k,(p,f) in enumerate(zip(P, F)) if f[:len(p)] != p]

def boundary(tok, prep_pc):
    "The merged-boundary row: prompt 'Link: http:' + completion '//example.com'."
    row = {'prompt': ['Link: http:'], 'completion': ['//example.com']}
    tl = mask_rows(row, tok=tok, format='prompt_completion')
    tr = prep_pc(datasets.Dataset.from_dict(row))[0]
    ids = tl['input_ids'][0]
    print("\n[merged boundary] prompt 'Link: http:' + completion '//example.com' (+ EOS)")
    print(f"  tokens:           {[tok.decode([i]) for i in ids]}")
    print(f"  prompt alone:     {[tok.decode([i]) for i in tok('Link: http:')['input_ids']]}")
    print(f"  same input_ids:   {ids == tr['input_ids']}")
    print(f"  tokenlens trains: {[tok.decode([i]) for i in trained(ids, tl['labels'][0])]}  "
          f"(straddling tokens: {tl['straddles'][0]}, masked by default straddle='mask'; warnings: {tl['mask_warnings'][0]})")
    print(f"  TRL trains:       {[tok.decode([i]) for i in trained(tr['input_ids'], tr['labels'])]}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rows', type=int, default=12000, help='rows to use (at most ~11,700 are available)')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--max-length', type=int, default=1024, help="both sides; 1024 is TRL's default (0: none)")
    ap.add_argument('--tokenizer-threads', action='store_true', help="let the Rust tokenizers use their thread pool")
    a = ap.parse_args()
    max_length = a.max_length or None
    SCRATCH.mkdir(parents=True, exist_ok=True)
    datasets.disable_caching(); datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    warnings.filterwarnings('ignore')
    trl_warnings = TRLWarnings(); logging.getLogger('trl.trainer.sft_trainer').addFilter(trl_warnings)

    convs = rows(a.rows)
    pc = {'prompt': [c[0]['content'] + '\n' for c in convs], 'completion': [c[1]['content'] for c in convs]}
    ds_msg, ds_pc = datasets.Dataset.from_dict({'messages': convs}), datasets.Dataset.from_dict(pc)

    tok = load_tokenizer('smollm2')
    template = QWEN_TRAINING.read_text()
    trl_tok = copy.deepcopy(tok)                    # SFTTrainer sets chat_template (and pad) on the tokenizer it is given
    model = load_model('smollm2')
    _, prep_msg = trl_trainer(model, trl_tok, ds_msg[:8], assistant_only_loss=True, chat_template_path=str(QWEN_TRAINING),
                              max_length=max_length)
    _, prep_pc = trl_trainer(model, copy.deepcopy(tok), ds_pc[:8], completion_only_loss=True, max_length=max_length)
    assert trl_tok.chat_template == template and tok.chat_template != template
    torch.set_num_threads(1)

    tl_kw = {'tok': tok, 'max_length': max_length}
    tl_map = lambda ds, **kw: ds.map(mask_rows, batched=True, with_indices=True, fn_kwargs={**tl_kw, **kw})
    paths = {   # name -> (rows, cases); in each rep the cases alternate tokenlens / TRL
        'messages, assistant-only': (len(ds_msg), {
            'tokenlens Dataset.map(mask_rows)': lambda: tl_map(ds_msg, format='messages', chat_template=template),
            'TRL SFTTrainer._prepare_dataset': lambda: prep_msg(ds_msg),
            'TRL, dataset_num_proc=1 (a worker per pass)': lambda: prep_msg(ds_msg, num_proc=1),
            'tokenlens mask_rows on lists': lambda: mask_rows({'messages': convs}, format='messages', chat_template=template, **tl_kw),
            "tokenlens Dataset.map, SmolLM2's own template": lambda: tl_map(ds_msg, format='messages')}),
        'prompt/completion, completion-only': (len(ds_pc), {
            'tokenlens Dataset.map(mask_rows)': lambda: tl_map(ds_pc, format='prompt_completion'),
            'TRL SFTTrainer._prepare_dataset': lambda: prep_pc(ds_pc),
            'TRL, dataset_num_proc=1 (a worker per pass)': lambda: prep_pc(ds_pc, num_proc=1),
            'tokenlens mask_rows on lists': lambda: mask_rows(pc, format='prompt_completion', **tl_kw)}),
    }
    chars = sum(len(c[0]['content']) + len(c[1]['content']) for c in convs) / len(convs)
    print(f"{len(convs)} rows ({chars:.0f} content chars each), best of {a.reps}; torch threads {torch.get_num_threads()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, tokenizers parallelism "
          f"{'on' if a.tokenizer_threads else 'off'}, os.cpu_count()={os.cpu_count()}, max_length={max_length}")
    best, last = {}, {}
    for rep in range(a.reps):
        times = []
        for path, (n, cases) in paths.items():
            for case, f in cases.items():
                t, out = timed(f); times.append(t)
                best[path, case] = min(best.get((path, case), float('inf')), t); last[path, case] = out
        print(f"  rep {rep+1} (cases in table order): " + ', '.join(f"{t:.2f}s" for t in times), flush=True)

    # correctness, on every row of the last repetition
    for path, (n, cases) in paths.items():
        tl, tr = last[path, 'tokenlens Dataset.map(mask_rows)'], last[path, 'TRL SFTTrainer._prepare_dataset']
        if len(tr) != n: print(f"\n[{path}] TRL kept {len(tr)} of {n} rows (dropped fully-masked ones): rows are not aligned")
        agreeing = compare(tok, path, tl.to_dict(), tr.to_dict(), pc=pc if path.startswith('prompt') else None)
        print(f"  tokenlens {MaskSummary(tl)}")
        if path.startswith('prompt'):
            br = trl_prefix_breaks(tok, pc)
            print(f"  rows where TRL's tokenized prompt is not a prefix of prompt+completion (its 'tokens merge across the "
                  f"boundary' warning): {len(br)}; the two sides still agree on {len(agreeing & set(br))} of them"
                  + (f"; e.g. row {br[0]}: prompt ends {pc['prompt'][br[0]][-12:]!r}, completion starts "
                     f"{pc['completion'][br[0]][:12]!r}" if br else ''))
    boundary(tok, prep_pc)
    print("\nTRL's own warnings during the run (its warning_once: one per distinct message; collected, not printed live):")
    tails = [m.split('training sequence: ', 1)[1].split('. The model', 1)[0] for m in trl_warnings.seen if 'not a prefix' in m]
    if tails:
        m = next(m for m in trl_warnings.seen if 'not a prefix' in m)
        print(f"  {m.split('training sequence: ')[0]}training sequence: <X>. ...'  with <X> = {', '.join(tails)}")
    for m in trl_warnings.seen:
        if 'not a prefix' not in m: print(f"  {m}")

    print(f"\n{'path':<36} {'case':<46} {'rows':>6} {'best s':>8} {'rows/s':>8} {'TRL/this':>9}")
    print('-'*118)
    for path, (n, cases) in paths.items():
        ref = best[path, 'TRL SFTTrainer._prepare_dataset']
        for case in cases:
            t = best[path, case]
            print(f"{path:<36} {case:<46} {n:>6} {t:>8.3f} {n/t:>8.0f} {ref/t:>8.2f}x")
    print(f"\n'TRL/this' = TRL's time / this case's time (above 1: faster than TRL). Python {sys.version.split()[0]}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} thread), transformers {transformers.__version__}, "
          f"trl {trl.__version__}, datasets {datasets.__version__}, tokenizers {tokenizers.__version__}, "
          f"tokenlens {getattr(tokenlens, '__version__', '?')}")

if __name__ == '__main__': main()
