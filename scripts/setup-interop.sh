#!/usr/bin/env bash
# Creates .venv-interop/: the pinned Python environment of the interop tests (tests/interop/,
# docs/interop.md). Called by setup.sh; safe to re-run: when the venv already holds exactly the
# pinned versions (the stamp below matches the pin files) nothing is installed.
# Needs a CPython 3.11 (`python3` first on PATH, or set GRAFT_INTEROP_BASE_PYTHON) and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-interop
requirements=scripts/interop-requirements.txt
constraints=scripts/interop-constraints.txt
stamp="$venv/graft-pins.sha256"
base="${GRAFT_INTEROP_BASE_PYTHON:-python3}"

pins=$(cat "$requirements" "$constraints" | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pins" ]; then
  echo "setup: $venv already holds the pinned versions"
  exit 0
fi

version=$("$base" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != "3.11" ]; then
  echo "setup: $base is Python $version; the pinned torch wheel needs 3.11 (set GRAFT_INTEROP_BASE_PYTHON)" >&2
  exit 1
fi

start=$(date +%s)
rm -f "$stamp"
[ -x "$venv/bin/python" ] || "$base" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
# torch first and alone, so nothing can ask for an unpinned (CUDA) torch.
"${pip[@]}" install -q -c "$constraints" torch
"${pip[@]}" install -q -r "$requirements" -c "$constraints"
"$venv/bin/python" -c 'import torch, jax, equinox, flax, msgpack, safetensors, transformers'
echo "$pins" > "$stamp"
echo "setup: $venv ready in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))"
