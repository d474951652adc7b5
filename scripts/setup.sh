#!/usr/bin/env bash
# Creates .venv and installs MCC with its dev tools. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [[ -z $PY ]]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
[[ -n $PY ]] || { echo "setup: Python 3.11+ is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
stamp=.venv/.mcc-installed
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
"$VPY" -m pip install --quiet --upgrade pip
# torch first: the CPU build on these machines; anything that needs torch then finds it satisfied.
if ! "$VPY" -c 'import torch, sys; sys.exit(not torch.__version__.startswith("2.13.0"))' 2>/dev/null; then
  echo "setup: installing torch==2.13.0 (CPU)"
  "$VPY" -m pip install --quiet "torch==2.13.0"
fi
echo "setup: installing MCC and its dependencies"
"$VPY" -m pip install --quiet -e ".[dev]"
echo "$want" > "$stamp"
