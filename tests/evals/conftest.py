"""Fixtures of the eval tests: a fast stand-in for the embedding model (hashing vectors, no weights) wherever a
suite runs in a test, and a clean MCC environment (no API key, no configured database)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.offline import HashingEncoder
from evals import world


@pytest.fixture
def fast_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Suites in this test embed with the hashing encoder: keyword-led routing, playbooks indexed in ~1 s."""
    monkeypatch.setattr(world, "default_embedder", lambda settings: HashingEncoder())


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("MCC_DATABASE_URL", "ANTHROPIC_API_KEY", "MCC_USER", "MCC_TENANT", "MCC_POLICY_MODE"):
        monkeypatch.delenv(var, raising=False)
