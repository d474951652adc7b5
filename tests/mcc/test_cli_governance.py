"""`mcc policy check`, `mcc approvals ...` and `mcc audit ...` end to end on a demo home (SQLite)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import text
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from mcp_servers.guard.identity import FixedPrincipal
from spine.demo import load_demo

runner = CliRunner()
CAMPAIGN = {"name": "Autumn Webinar Series", "type": "standard", "tier": 2, "launch_date": "2027-09-01",
            "owner_id": "maya.chen", "budget_planned": {"amount": "45000", "currency": "USD"}}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("MCC_DATABASE_URL", "MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    with open_app(load_settings()) as app:
        load_demo(app.sessions)
    return tmp_path


def mcc(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def spine_call(user: str, tool: str, args: dict[str, Any]) -> Any:
    async def go() -> Any:
        with open_app(load_settings()) as app:
            async with Client(app.spine_server(FixedPrincipal(app.principal(user)))) as client:
                result = await client.call_tool(tool, args)
        return result.content[0].text if result.is_error else result.structured_content

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("user", "call", "args", "code", "effect", "rule"),
    [
        ("maya.chen", "spine.list_campaigns", {}, 0, "allow", None),
        ("maya.chen", "spine.create_campaign", CAMPAIGN, 10, "require_approval", "budget.leadership_approval"),
        ("sam.taylor", "spine.create_campaign", CAMPAIGN, 1, "deny", "role.readonly_no_write"),
        ("maya.chen", "spine.create_campaign", {**CAMPAIGN, "colour": "red"}, 1, "deny", "input.validation"),
        ("maya.chen", "salesforce.update_campaign", {"campaign_id": "x"}, 1, "deny", "system.read_only"),
        ("maya.chen", "workfront.delete_project", {"project_id": "a" * 32}, 1, "deny", "workfront.no_project_delete"),
        ("maya.chen", "spine.drop_everything", {}, 1, "deny", None),
    ],
)
def test_policy_check_prints_the_decision_and_exits_by_effect(
    home: Path, user: str, call: str, args: dict, code: int, effect: str, rule: str | None
) -> None:
    exit_code, out = mcc("policy", "check", call, json.dumps(args), "--as", user, "--json")
    assert exit_code == code, out
    result = json.loads(out)
    assert result["effect"] == effect and result["principal"]["user_id"] == user
    if rule:
        assert rule in result["rule_ids"] and any(r["rule_id"] == rule for r in result["reasons"])


def test_policy_check_executes_nothing_and_spends_no_rate_quota(home: Path) -> None:
    for _ in range(3):
        assert mcc("policy", "check", "spine.create_campaign", json.dumps(CAMPAIGN))[0] == 10
    assert spine_call("maya.chen", "list_approvals", {})["approvals"] == []
    assert spine_call("maya.chen", "list_campaigns", {"name_contains": "Autumn Webinar"})["count"] == 0


def test_policy_check_in_log_only_mode_reports_what_would_have_happened(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCC_POLICY_MODE", "log_only")
    code, out = mcc("policy", "check", "spine.create_campaign", json.dumps(CAMPAIGN), "--as", "sam.taylor", "--json")
    result = json.loads(out)
    assert code == 0 and result["effect"] == "allow" and result["would_have"] == "deny"


@pytest.mark.parametrize(
    ("args", "message"),
    [(("spine_create",), "SERVER.TOOL"), (("spine.get_campaign", "{not json"), "not valid JSON"),
     (("spine.get_campaign", "[1, 2]"), "JSON object"), (("spine.get_campaign", "{}", "--as", "ghost"), "ghost")],
)  # fmt: skip
def test_policy_check_rejects_bad_input_with_exit_2(home: Path, args: tuple[str, ...], message: str) -> None:
    code, out = mcc("policy", "check", *args)
    assert code == 2 and message in out


def test_approvals_are_listed_shown_and_resolved_only_by_the_right_people(home: Path) -> None:
    pending = spine_call("maya.chen", "create_campaign", CAMPAIGN)
    assert pending["status"] == "approval_required"
    aid = pending["approval_id"]
    code, out = mcc("approvals", "list", "--as", "dana.reyes", "--json")
    assert code == 0 and [a["approval_id"] for a in json.loads(out)] == [aid]

    code, out = mcc("approvals", "approve", aid, "--as", "maya.chen")
    assert code == 2 and "resolve_approval" in out  # campaign managers resolve no approvals at all
    code, out = mcc("approvals", "approve", aid, "--as", "sofia.rossi")
    assert code == 2 and "resolve_approval" in out
    code, out = mcc("approvals", "approve", aid, "--as", "dana.reyes", "--note", "fits the Q3 plan", "--json")
    assert code == 0 and json.loads(out)["status"] == "approved"
    code, out = mcc("approvals", "show", aid, "--json")
    shown = json.loads(out)
    assert shown["note"] == "fits the Q3 plan" and shown["resolved_by"] == "dana.reyes"
    assert shown["arguments"]["name"] == CAMPAIGN["name"]

    created = spine_call("maya.chen", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert created["name"] == CAMPAIGN["name"] and created["status"] == "draft"
    again = spine_call("maya.chen", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert again == created  # consumed: ran once; the identical re-send replays the stored result
    code, out = mcc("approvals", "approve", aid, "--as", "victor.hale")
    assert code == 2


def test_nobody_approves_their_own_request(home: Path) -> None:
    aid = spine_call("dana.reyes", "create_campaign", {**CAMPAIGN, "owner_id": "dana.reyes"})["approval_id"]
    code, out = mcc("approvals", "approve", aid, "--as", "dana.reyes")
    assert code == 2 and "requested approval" in out and "cannot resolve" in out
    assert json.loads(mcc("approvals", "show", aid, "--json")[1])["status"] == "pending"


def test_a_rejected_approval_keeps_its_note_and_is_not_asked_again(home: Path) -> None:
    aid = spine_call("maya.chen", "create_campaign", CAMPAIGN)["approval_id"]
    code, out = mcc("approvals", "reject", aid, "--as", "victor.hale", "--note", "no budget left")
    assert code == 0 and "rejected" in out
    assert mcc("approvals", "list", "--status", "rejected", "--json")[1].count(aid) == 1
    again = spine_call("maya.chen", "create_campaign", CAMPAIGN)
    assert isinstance(again, str) and "reject" in again.lower()


def test_audit_tail_shows_decisions_and_verify_detects_an_edit(home: Path) -> None:
    spine_call("maya.chen", "list_campaigns", {})
    spine_call("sam.taylor", "create_campaign", CAMPAIGN)
    code, out = mcc("audit", "tail", "--json", "--tenant", "acme")
    rows = json.loads(out)
    assert code == 0 and [r["decision"] for r in rows][-2:] == ["allow", "deny"]
    assert rows[-1]["actor"] == "sam.taylor" and "role.readonly_no_write" in rows[-1]["rule_ids"]
    code, out = mcc("audit", "verify")
    assert code == 0 and "intact" in out

    with open_app(load_settings()) as app, app.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET decision = 'allow' WHERE seq = :s"), {"s": rows[-1]["seq"]})
    code, out = mcc("audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert [(p["seq"], p["kind"]) for p in report["problems"]] == [(rows[-1]["seq"], "edited")]
