"""Adversarial calls against the real wiring (App + demo world + servers), on SQLite and PostgreSQL.

Approval reuse, edited arguments after approval, a colleague replaying someone's approval, another tenant's
approval id, an expired approval, cross-tenant ids, PII hidden in nested fields, LOG_ONLY rollout and a policy
file with a syntax error.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import Engine, update

from mcc.demo_world import seed_demo_world
from mcc.settings import load_settings
from mcc.wiring import App
from mcp_servers.guard.identity import FixedPrincipal
from spine.audit import AuditLog
from spine.db import make_session_factory
from spine.models.governance import Approval
from spine.repositories import open_store

CAMPAIGN = {"name": "Partner Summit EMEA", "type": "standard", "tier": 2, "launch_date": "2027-06-01",
            "owner_id": "maya.chen", "budget_planned": {"amount": "42000", "currency": "EUR"}}  # fmt: skip


@pytest.fixture
async def app(engine: Engine, tmp_path: Path) -> AsyncIterator[App]:
    settings = load_settings(home=tmp_path, policy_mode="enforce")
    app = App(settings=settings, engine=engine, sessions=make_session_factory(engine))
    await seed_demo_world(app, today=dt.date(2026, 11, 1))
    yield app
    await app.aclose_backends()


async def call(app: App, user: str, server: str, tool: str, args: dict[str, Any], tenant: str = "acme") -> Any:
    """(ok, structured result or error text) of one call as ``user``."""
    async with Client(app.server(server, FixedPrincipal(app.principal(user, tenant)))) as client:
        result = await client.call_tool(tool, args)
    return (False, result.content[0].text) if result.is_error else (True, result.structured_content)


async def approved(app: App, requester: str = "maya.chen", args: dict[str, Any] = CAMPAIGN) -> str:
    ok, pending = await call(app, requester, "spine", "create_campaign", args)
    assert ok and pending["status"] == "approval_required"
    ok, row = await call(app, "dana.reyes", "spine", "resolve_approval",
                         {"approval_id": pending["approval_id"], "decision": "approve"})  # fmt: skip
    assert ok and row["status"] == "approved"
    return pending["approval_id"]


def count(app: App, name: str) -> int:
    with open_store(app.sessions, "acme") as store:
        return sum(1 for c in store.campaigns.list(limit=500) if c.name == name)


async def test_edited_arguments_after_approval_are_denied_and_the_approval_survives(app: App) -> None:
    aid = await approved(app)
    edited = {**CAMPAIGN, "budget_planned": {"amount": "95000", "currency": "EUR"}, "approval_id": aid}
    ok, text = await call(app, "maya.chen", "spine", "create_campaign", edited)
    assert not ok and "approval" in text and count(app, CAMPAIGN["name"]) == 0
    ok, created = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok and created["name"] == CAMPAIGN["name"] and count(app, CAMPAIGN["name"]) == 1


async def test_an_approval_is_consumed_once_and_cannot_be_reused(app: App) -> None:
    aid = await approved(app)
    ok, first = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert ok
    # A re-send (even under a new idempotency key) replays the stored result: it never runs a second time.
    ok, again = await call(app, "maya.chen", "spine", "create_campaign",
                           {**CAMPAIGN, "approval_id": aid, "idempotency_key": "second-try-0001"})  # fmt: skip
    assert ok and again["id"] == first["id"] and count(app, CAMPAIGN["name"]) == 1


async def test_a_colleague_cannot_replay_someone_elses_approval(app: App) -> None:
    aid = await approved(app)
    ok, text = await call(app, "omar.farouk", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert not ok and "approval" in text and count(app, CAMPAIGN["name"]) == 0


async def test_another_tenants_approval_id_is_unknown(app: App) -> None:
    aid = await approved(app)
    globex = {**CAMPAIGN, "owner_id": "frank.grimes", "approval_id": aid}
    ok, text = await call(app, "frank.grimes", "spine", "create_campaign", globex, tenant="globex")
    assert not ok and "approval_id" in text
    ok, text = await call(app, "hank.scorpio", "spine", "get_approval", {"approval_id": aid}, tenant="globex")
    assert not ok and "not_found" in text


async def test_an_expired_approval_can_be_neither_approved_nor_used(app: App) -> None:
    ok, pending = await call(app, "maya.chen", "spine", "create_campaign", CAMPAIGN)
    aid = pending["approval_id"]
    with app.sessions.begin() as s:
        s.execute(update(Approval).where(Approval.approval_id == aid)
                  .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))  # fmt: skip
    ok, text = await call(app, "dana.reyes", "spine", "resolve_approval",
                          {"approval_id": aid, "decision": "approve"})  # fmt: skip
    assert not ok and "expired" in text
    ok, text = await call(app, "maya.chen", "spine", "create_campaign", {**CAMPAIGN, "approval_id": aid})
    assert not ok and count(app, CAMPAIGN["name"]) == 0


async def test_ids_of_another_tenant_are_denied_on_every_server(app: App) -> None:
    with open_store(app.sessions, "acme") as store:
        acme = next(c for c in store.campaigns.list(limit=100) if "workfront" in c.external_refs)
    ok, text = await call(app, "frank.grimes", "workfront", "get_project",
                          {"project_id": acme.external_refs["workfront"]}, tenant="globex")  # fmt: skip
    assert not ok and "[not_found]" in text and "acme" not in text
    ok, text = await call(app, "frank.grimes", "spine", "get_campaign", {"campaign_id": acme.id}, tenant="globex")
    assert not ok and acme.name not in text


async def test_pii_hidden_in_nested_fields_never_reaches_workfront(app: App) -> None:
    before = len((await app.workfront_backend("acme").search("PROJ", {}, limit=500)).items)
    nested = {"DE:Press contacts": ["Ana Lima", "mobile: +1 415 555 0134"]}  # PII inside a list in a dict
    ok, text = await call(app, "maya.chen", "workfront", "create_project",
                          {"name": "Press tour", "custom_fields": nested})  # fmt: skip
    assert not ok and "[denied]" in text and "custom_fields" in text
    after = len((await app.workfront_backend("acme").search("PROJ", {}, limit=500)).items)
    assert after == before


async def test_log_only_mode_runs_the_call_and_records_what_would_have_been_denied(
    engine: Engine, tmp_path: Path
) -> None:
    settings = load_settings(home=tmp_path, policy_mode="log_only")
    app = App(settings=settings, engine=engine, sessions=make_session_factory(engine))
    await seed_demo_world(app, today=dt.date(2026, 11, 1))
    small = {**CAMPAIGN, "budget_planned": {"amount": "900", "currency": "USD"}}
    ok, created = await call(app, "sam.taylor", "spine", "create_campaign", small)
    assert ok and created["name"] == CAMPAIGN["name"]
    row = [r for r in AuditLog(app.sessions).tail("acme", 5) if r.decision == "allow"][-1]
    assert row.actor == "sam.taylor" and row.detail["log_only"]["would_have"] == "deny"
    assert "role.readonly_no_write" in row.detail["log_only"]["rule_ids"]
    await app.aclose_backends()


def test_a_policy_file_with_a_syntax_error_stops_the_server_naming_file_and_line(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    packaged = Path(__file__).parents[3] / "policies" / "cedar"
    (policies / "schema.cedarschema").write_text((packaged / "schema.cedarschema").read_text())
    text = (packaged / "mcc.cedar").read_text()
    (policies / "mcc.cedar").write_text(text + "\n\npermit (principal, action\n")
    bad_line = len(text.splitlines()) + 3  # the appended statement's line, wherever the packaged file ends
    env = {"MCC_HOME": str(tmp_path / "home"), "MCC_POLICY_DIR": str(policies), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "mcc", "serve", "spine"], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    message = " ".join(done.stderr.split())
    assert done.returncode == 2 and f"mcc.cedar:{bad_line}: syntax error" in message and "does not start" in message
