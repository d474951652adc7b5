"""A demo home made once per test session by the real `mcc demo --json` (world, playbooks, conversation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(MCC_HOME, the JSON `mcc demo --json` printed) on a fresh home, SQLite, offline model."""
    path = tmp_path_factory.mktemp("mcc-demo-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_") and k != "ANTHROPIC_API_KEY"}
    done = subprocess.run([sys.executable, "-m", "mcc", "demo", "--json"], env={**env, "MCC_HOME": str(path)},
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return path, json.loads(done.stdout)
