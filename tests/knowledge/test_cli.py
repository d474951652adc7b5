"""``mcc knowledge ingest|search|answer|eval`` through the real CLI (slow: loads the model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcc.cli import app
from tests.knowledge.conftest import write_playbook

pytestmark = pytest.mark.slow


def test_ingest_search_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    docs = tmp_path / "docs"
    docs.mkdir()
    write_playbook(docs, "email", "Email Specs", "## Subject lines\n\nSubject line: 50 characters maximum.",
                   "production_processes")  # fmt: skip
    (docs / "empty.md").write_text("", encoding="utf-8")
    runner = CliRunner()

    first = runner.invoke(app, ["knowledge", "ingest", str(docs), "--shared"])
    assert first.exit_code == 0, first.output
    assert "1 added" in first.output and "1 skipped" in first.output and "empty" in first.output

    again = runner.invoke(app, ["knowledge", "ingest", str(docs), "--shared", "--json"])
    assert json.loads(again.stdout)["unchanged"] and again.exit_code == 0

    found = runner.invoke(app, ["knowledge", "search", "subject line length", "--k", "1", "--json"])
    hits = json.loads(found.stdout)
    assert hits[0]["citation"] == "email § Subject lines" and hits[0]["scores"]["dense"] is not None

    filtered = runner.invoke(app, ["knowledge", "search", "subject", "--domain", "brand_guidelines", "--json"])
    assert json.loads(filtered.stdout) == []

    answered = runner.invoke(app, ["knowledge", "answer", "What is the maximum subject line length?", "--json"])
    body = json.loads(answered.stdout)
    assert body["answered"] and "50" in body["answer"]

    bad = runner.invoke(app, ["knowledge", "search", "x", "--mode", "magic"])
    assert bad.exit_code == 2
