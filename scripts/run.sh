#!/usr/bin/env bash
# The main job on embedded defaults: set up, build a demo world under $MCC_HOME (default ~/.mcc), show it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/mcc demo "$@"
