"""Attack: personal data already stored (before the argument rules existed, or typed straight into Workfront) must
not poison every read of the tenant. A read masks those values and returns the rest; a write that completed is
reported as done; approvals holding such data can be listed, shown and resolved, also through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mcc import cli as mcc_cli
from mcc.settings import load_settings
from mcc.wiring import App, open_app
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.demo import load_demo
from spine.repositories import open_store
from tests.agents.graph.support import ScriptedModel, route, say
from tests.agents.graph.support import call as model_call
from tests.security.conftest import audit_rows, call

SECRET = "Speaker SSN 219-09-9999, card 4111 1111 1111 1111"
MASKED = "Speaker SSN [REDACTED:ssn], card [REDACTED:card]"


def store_secret(sessions: Any, tenant: str = "acme") -> Any:
    """Put personal data into one campaign straight through the repository, as data stored before the rules."""
    with open_store(sessions, tenant) as store:
        camp = next(c for c in store.campaigns.list(limit=100) if c.owner_id == "maya.chen")
        return store.campaigns.update(camp.id, {"description": SECRET}, expected_version=camp.version,
                                      actor="legacy-import")  # fmt: skip


def store_secret_approval(sessions: Any, tenant: str = "acme") -> str:
    args = {"name": "Legacy Launch", "type": "standard", "tier": 2, "launch_date": "2027-06-01",
            "owner_id": "maya.chen", "description": SECRET,
            "budget_planned": {"amount": "45000", "currency": "USD"}}  # fmt: skip
    approval = ApprovalStore(sessions, audit=AuditLog(sessions)).request(
        tenant, "spine", "create_campaign", args, "maya.chen", "marketing-leadership", "over $10,000",
        ["budget.leadership_approval"],
    )  # fmt: skip
    return approval.approval_id


async def test_a_stored_ssn_is_masked_and_every_other_campaign_still_reads(app: App) -> None:
    leaky = store_secret(app.sessions)
    with open_store(app.sessions, "acme") as store:
        total = len(store.campaigns.list(limit=500))
    ok, listed = await call(app, "omar.farouk", "spine", "list_campaigns", {"limit": 500})
    assert ok and listed["count"] == total > 1
    by_id = {c["id"]: c for c in listed["campaigns"]}
    assert by_id[leaky.id]["description"] == MASKED and by_id[leaky.id]["name"] == leaky.name
    assert "219-09" not in json.dumps(listed) and "4111" not in json.dumps(listed)
    ok, one = await call(app, "maya.chen", "spine", "get_campaign", {"campaign_id": leaky.id})
    assert ok and one["description"] == MASKED and one["version"] == leaky.version
    row = audit_rows(app, "list_campaigns")[-1]
    assert row.decision == "redacted" and row.rule_ids == ["pii.response_redacted"]
    idx = next(i for i, c in enumerate(listed["campaigns"]) if c["id"] == leaky.id)
    assert row.detail["redacted"] == [f"ssn@$.campaigns[{idx}].description", f"card@$.campaigns[{idx}].description"]


async def test_a_write_that_completed_is_reported_as_done_with_the_answer_masked(app: App) -> None:
    leaky = store_secret(app.sessions)
    ok, updated = await call(app, "maya.chen", "spine", "update_campaign", {
        "campaign_id": leaky.id, "expected_version": leaky.version, "changes": {"name": "Renamed Launch"}})  # fmt: skip
    assert ok and updated["name"] == "Renamed Launch" and updated["version"] == leaky.version + 1
    assert updated["description"] == MASKED
    with open_store(app.sessions, "acme") as store:
        assert store.campaigns.get(leaky.id).name == "Renamed Launch"
    assert [r.decision for r in audit_rows(app, "update_campaign")][-3:] == ["allow", "executed", "redacted"]


async def test_approvals_holding_stored_pii_are_listed_shown_and_resolved(app: App) -> None:
    approval_id = store_secret_approval(app.sessions)
    ok, listed = await call(app, "dana.reyes", "spine", "list_approvals", {})
    assert ok and [a["arguments"]["description"] for a in listed["approvals"]] == [MASKED]
    ok, shown = await call(app, "dana.reyes", "spine", "get_approval", {"approval_id": approval_id})
    assert ok and shown["arguments"]["description"] == MASKED and shown["arguments"]["name"] == "Legacy Launch"
    ok, resolved = await call(app, "dana.reyes", "spine", "resolve_approval",
                              {"approval_id": approval_id, "decision": "approve"})  # fmt: skip
    assert ok and resolved["status"] == "approved" and resolved["arguments"]["description"] == MASKED
    assert ApprovalStore(app.sessions).get("acme", approval_id).status == "approved"


async def test_a_project_typed_in_workfront_with_a_card_number_still_reads(app: App) -> None:
    backend = app.workfront_backend("acme")
    project = await backend.create_project("Card in Workfront", description="deposit card 4111-1111-1111-1111")
    ok, got = await call(app, "priya.natarajan", "workfront", "get_project", {"project_id": project.id})
    assert ok and got["project"]["description"] == "deposit card [REDACTED:card]"
    ok, found = await call(app, "priya.natarajan", "workfront", "search",
                           {"obj_code": "PROJ", "filters": {"name": "Card in Workfront"}})  # fmt: skip
    assert ok and "4111" not in json.dumps(found) and "[REDACTED:card]" in json.dumps(found)


# ------------------------------------------------------------------ the CLI, on SQLite and PostgreSQL
@pytest.fixture
def home(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MCC_HOME", str(tmp_path))
    monkeypatch.setenv("MCC_DATABASE_URL", db_url)
    for var in ("ANTHROPIC_API_KEY", "MCC_USER", "MCC_TENANT", "MCC_POLICY_MODE"):
        monkeypatch.delenv(var, raising=False)
    with open_app(load_settings()) as world:
        load_demo(world.sessions)
    yield tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(mcc_cli.app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_cli_shows_and_approves_an_approval_holding_stored_pii(home: Path) -> None:
    with open_app(load_settings()) as world:
        approval_id = store_secret_approval(world.sessions)
    code, out = run("approvals", "show", approval_id, "--as", "dana.reyes", "--json")
    assert code == 0, out
    assert json.loads(out)["arguments"]["description"] == MASKED
    code, out = run("approvals", "approve", approval_id, "--as", "dana.reyes", "--json")
    assert code == 0, out
    assert json.loads(out)["status"] == "approved" and "219-09" not in out
    with open_app(load_settings()) as world:
        assert ApprovalStore(world.sessions).get("acme", approval_id).status == "approved"


def test_mcc_ask_about_campaigns_works_with_stored_pii(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_app(load_settings()) as world:
        store_secret(world.sessions)
    model = ScriptedModel({
        "supervisor": [route(("analytics", "which campaigns do we run?"))],
        "analytics": [model_call("spine__list_campaigns", limit=100), say("Here are the campaigns.")],
    })  # fmt: skip
    monkeypatch.setattr(App, "chat_model", lambda self: model)
    code, out = run("ask", "which campaigns do we run?", "--json")
    assert code == 0, out
    turn = json.loads(out)
    assert [(c["tool"], c["result_status"]) for c in turn["tool_calls"]] == [("list_campaigns", "ok")]
    assert turn["reply"] == "Here are the campaigns." and "219-09" not in out
