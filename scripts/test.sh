#!/usr/bin/env bash
# Sets up everything the tests need (venv, torch CPU, PostgreSQL) and runs lint, the import contract,
# the whole pytest suite (SQLite and PostgreSQL) and the shipped eval suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
unset ANTHROPIC_API_KEY
MCC_TEST_POSTGRES_URL=$(./scripts/ensure_postgres.sh)
export MCC_TEST_POSTGRES_URL
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== import contract"
.venv/bin/lint-imports
echo "== pytest (SQLite + PostgreSQL at $MCC_TEST_POSTGRES_URL)"
.venv/bin/python -m pytest --durations=15 "$@"
if [[ -d evals/cases ]] && ls evals/cases/*.yaml >/dev/null 2>&1; then
  echo "== eval suite"
  export MCC_HOME=$(mktemp -d)
  .venv/bin/mcc eval run evals/cases --min-pass 0.95
fi
