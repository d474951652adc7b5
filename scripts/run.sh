#!/usr/bin/env bash
# The main job on embedded defaults: set up, build a demo world under $MCC_HOME (default ~/.mcc), show it.
# --web [--host H --port P]: serve the web app on that demo world instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [[ ${1:-} == --web ]]; then
  shift
  # The web app on the demo world (http://127.0.0.1:8000); demo users get printed passwords on first start.
  exec .venv/bin/mcc web --demo "$@"
fi
exec .venv/bin/mcc demo "$@"
