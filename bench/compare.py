"""What the label comparison finds when TRL prepares the benchmark conversations, and what it costs next to TRL's own
preparation. Run from the bench dir:  HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python compare.py [--rows N]

Two TRL paths on the SmolLM2 tokenizer, as in masking_trl.py: prompt/completion rows with `completion_only_loss=True`,
and conversations with `assistant_only_loss=True` on TRL's ChatML training template (`qwen2_5_training.jinja`, given to
both sides). Timed: `trl_labels` (an SFTTrainer built on a one-layer stand-in model, then its dataset preparation) and
`compare_labels` on its output, in one process, one torch thread, TOKENIZERS_PARALLELISM=false."""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import torch; torch.set_num_threads(1)
from pathlib import Path
import trl
from masking import conversations
from tokenlens.models import load_tokenizer
from tokenlens.compare import compare_labels, trl_labels

QWEN = Path(trl.__file__).parent/'chat_templates'/'qwen2_5_training.jinja'

def timed(f):
    t0 = time.perf_counter(); r = f(); return time.perf_counter() - t0, r

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--rows', type=int, default=10000); a = ap.parse_args()
    tok = load_tokenizer('smollm2')
    convs = conversations(a.rows)
    paths = {'prompt/completion, completion_only_loss': ([{'prompt': c[0]['content'] + '\n', 'completion': c[1]['content']} for c in convs],
                                                         {'completion_only_loss': True}, {}),
             'messages, assistant_only_loss (ChatML training template)': ([{'messages': c} for c in convs],
                                                         {'assistant_only_loss': True, 'chat_template_path': str(QWEN)}, {'chat_template': QWEN.read_text()})}
    print(f"{len(convs)} rows; torch threads {torch.get_num_threads()}; TRL {trl.__version__}")
    for name, (rows, cfg, kw) in paths.items():
        t_trl, got = timed(lambda: trl_labels(tok, rows, cfg))
        t_cmp, rep = timed(lambda: compare_labels(tok, rows, got, pipeline='TRL', **kw))
        print(f"\n[{name}] TRL preparation {t_trl:.2f} s, comparison {t_cmp:.2f} s ({t_cmp / t_trl:.2f}x TRL's time)")
        print(rep.summary(2))
