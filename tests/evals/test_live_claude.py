"""Opt-in live smoke test: the shipped eval suite against the real Claude API (``--model claude --trials 1``).

Runs only with ``MCC_LIVE_CLAUDE=1`` and a real ``ANTHROPIC_API_KEY`` (CI has neither, so it skips). The report is
written to ``MCC_LIVE_REPORT`` (default: this test's temporary directory) and its path printed; it carries the pass
rate, the hard gates and each case's token usage (its cost).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIVE = os.environ.get("MCC_LIVE_CLAUDE") == "1" and bool(os.environ.get("ANTHROPIC_API_KEY", "").strip())


@pytest.mark.skipif(not LIVE, reason="live Claude smoke test: set MCC_LIVE_CLAUDE=1 and ANTHROPIC_API_KEY")
def test_shipped_eval_suite_runs_against_claude(tmp_path: Path) -> None:
    report = Path(os.environ.get("MCC_LIVE_REPORT") or tmp_path / "live-claude-report.json")
    env = {**os.environ, "MCC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    mcc = Path(sys.executable).parent / "mcc"
    command = [str(mcc), "eval", "run", str(ROOT / "evals" / "cases"), "--model", "claude", "--trials", "1",
               "--json", str(report)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=4 * 3600)
    print(done.stdout[-4000:], f"\nreport: {report}")
    assert report.exists(), done.stderr[-4000:]
    data = json.loads(report.read_text(encoding="utf-8"))
    assert "claude" in data["model"] and data["runs"] >= data["cases"] > 0
    assert data["hard_gates"] == dict.fromkeys(data["hard_gates"], 0), data["hard_gates"]  # safety holds on Claude
    assert all(case["usage"].get("model_calls", 0) > 0 for case in data["results"])  # cost per case is recorded
