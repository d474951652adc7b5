"""`mcc approvals sweep|edit|delegate|delegations|undelegate` and `mcc notifications set|list|test|remove` on a demo
home (SQLite), with a local SMTP server for the e-mail channel."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from mcp_servers.guard.identity import FixedPrincipal
from spine.demo import load_demo
from tests.mcc.test_notifications import Mailbox, _free_port

runner = CliRunner()
CAMPAIGN = {"name": "Lantern Walk", "type": "standard", "tier": 2, "launch_date": "2027-09-01",
            "owner_id": "maya.chen", "budget_planned": {"amount": "45000", "currency": "USD"}}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("MCC_DATABASE_URL", "MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    with open_app(load_settings()) as app:
        load_demo(app.sessions)
    return tmp_path


def mcc(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), input=stdin)
    return result.exit_code, result.output


def _request() -> str:
    async def go() -> Any:
        with open_app(load_settings()) as app:
            async with Client(app.spine_server(FixedPrincipal(app.principal("maya.chen")))) as client:
                return (await client.call_tool("create_campaign", CAMPAIGN)).structured_content

    return str(asyncio.run(go())["approval_id"])


def test_notification_channels_are_set_listed_tested_and_swept(home: Path) -> None:
    from aiosmtpd.controller import Controller

    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        code, out = mcc("notifications", "set", "mail", "--kind", "email", "--smtp-host", "127.0.0.1",
                        "--smtp-port", str(port), "--sender", "mcc@acme.test", "--no-starttls")  # fmt: skip
        assert code == 0, out
        code, out = mcc("notifications", "set", "hook", "--kind", "slack", "--secret-stdin",
                        stdin="https://hooks.example.invalid/services/T/B/very-secret\n")  # fmt: skip
        assert code == 0, out
        code, out = mcc("notifications", "list", "--json")
        listed = {c["name"]: c for c in json.loads(out)}
        assert listed["hook"]["secret"] == "encrypted" and "very-secret" not in out
        assert listed["mail"]["config"]["port"] == port
        code, out = mcc("notifications", "test", "mail", "--to", "ops@acme.test")
        assert code == 0 and box.messages[-1][0] == ["ops@acme.test"]
        mcc("notifications", "remove", "hook")
        aid = _request()
        code, out = mcc("approvals", "sweep", "--json")
        report = json.loads(out)
        assert code == 0 and report["sweep"]["notified"] == 1 and report["delivery"]["sent"] == 1
        assert aid in box.messages[-1][1].get_payload()
        code, out = mcc("approvals", "sweep", "--json")
        assert json.loads(out)["sweep"]["queued"] == 0
    finally:
        controller.stop()


def test_edit_and_delegation_from_the_cli(home: Path) -> None:
    aid = _request()
    code, out = mcc("approvals", "edit", aid, "--set", "budget_planned.amount=50000", "--as", "dana.reyes")
    assert code == 2 and "not lower" in out
    code, out = mcc("approvals", "edit", aid, "--set", "name=Cheaper", "--as", "dana.reyes")
    assert code == 2 and "not an amount or a date" in out
    code, out = mcc("approvals", "edit", aid, "--set", "budget_planned.amount=30000", "--as", "maya.chen")
    assert code == 2 and "cannot resolve" in out  # the requester
    code, out = mcc("approvals", "edit", aid, "--set", "budget_planned.amount=30000", "--as", "dana.reyes", "--json")
    assert code == 0, out
    assert json.loads(out)["arguments"]["budget_planned"]["amount"] == "30000"
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    code, out = mcc("approvals", "delegate", "--to", "sam.taylor", "--until", until, "--as", "victor.hale")
    assert code == 2 and "no group that may approve" in out
    code, out = mcc("approvals", "delegate", "--to", "dana.reyes", "--until", until, "--as", "victor.hale", "--json")
    assert code == 0, out
    delegation = json.loads(out)["id"]
    code, out = mcc("approvals", "delegations", "--as", "dana.reyes", "--json")
    assert [d["delegator"] for d in json.loads(out)] == ["victor.hale"]
    assert mcc("approvals", "undelegate", delegation, "--as", "victor.hale")[0] == 0
