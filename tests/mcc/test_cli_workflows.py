"""`mcc workflows list|show` on a home where one campaign setup finished and one failed (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from sync.campaign_setup import STEPS
from tests.sync.setup_world import TENANT, campaign_fields, seed_world

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("MCC_DATABASE_URL", "MCC_DBOS_DATABASE_URL", "MCC_TENANT", "MCC_USER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    monkeypatch.setenv("MCC_DBOS_POLLING_SEC", "0.1")
    with open_app(load_settings()) as app:
        seed_world(app.sessions, tmp_path)
        with app.durable():
            good = app.start_campaign_setup(tenant_id=TENANT, actor="maya.chen", fields=campaign_fields(),
                                            idempotency_key="cli-good-0001", approval_id=None)  # fmt: skip
            bad = app.start_campaign_setup(tenant_id=TENANT, actor="maya.chen",
                                           fields=campaign_fields(owner_id="ghost.user"),
                                           idempotency_key="cli-bad-00001", approval_id=None)  # fmt: skip
    assert (good["status"], bad["status"]) == ("SUCCESS", "ERROR")
    return tmp_path


def test_list_and_show_give_each_steps_state(home: Path) -> None:
    result = runner.invoke(cli, ["workflows", "list", "--json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)
    assert [r["status"] for r in runs] == ["ERROR", "SUCCESS"]  # newest first
    good = runs[1]

    result = runner.invoke(cli, ["workflows", "show", good["workflow_id"], "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert [(s["name"], s["state"]) for s in shown["steps"]] == [(name, "done") for name in STEPS]
    assert shown["result"]["system"] == "workfront"

    result = runner.invoke(cli, ["workflows", "show", runs[0]["workflow_id"]])
    assert result.exit_code == 0
    assert "validate" in result.output and "failed" in result.output and "ghost.user" in result.output

    result = runner.invoke(cli, ["workflows", "show", "campaign-setup-nope"])
    assert result.exit_code == 2 and "mcc workflows list" in result.output
