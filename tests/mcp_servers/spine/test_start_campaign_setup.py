"""start_campaign_setup through the real App wiring: MCP client, guard (identity, policy, budget approvals), the
durable workflow running in this process (a worker), the sandboxes as Workfront and Asana."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from mcp import Client
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mcc.settings import Settings
from mcc.wiring import App
from mcp_servers.guard.identity import FixedPrincipal
from policies.model import Principal
from tests.sync.setup_world import TENANT, campaign_fields, counts, seed_world


@pytest.fixture
def app(engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[App]:
    seed_world(session_factory, tmp_path)
    schema = f"dbos_{uuid.uuid4().hex[:10]}"
    url = engine.url.render_as_string(hide_password=False)
    dbos_url = f"sqlite:///{tmp_path / 'dbos.sqlite'}" if engine.dialect.name == "sqlite" else url
    settings = Settings(home=tmp_path, database_url=url, dbos_database_url=dbos_url, dbos_schema=schema,
                        dbos_polling_sec=0.1, audit_key="a" * 40, campaign_setup_wait_sec=60)  # fmt: skip
    app = App(settings=settings, engine=engine, sessions=session_factory)
    try:
        with app.durable():
            yield app
    finally:
        if engine.dialect.name != "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def call(app: App, user: str, args: dict[str, Any], tool: str = "start_campaign_setup") -> tuple[bool, Any]:
    groups = frozenset(app.groups_of(TENANT, user) or ())
    server = app.spine_server(FixedPrincipal(Principal(user, TENANT, groups)))
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    return (False, result.content[0].text) if result.is_error else (True, result.structured_content)


async def test_setup_runs_once_per_key_and_big_budgets_wait_for_approval(app: App, tmp_path: Path) -> None:
    key = f"setup-{uuid.uuid4().hex[:8]}"
    ok, run = await call(app, "maya.chen", {**campaign_fields(), "idempotency_key": key})
    assert ok and run["status"] == "SUCCESS", run
    assert run["system"] == "workfront" and run["project_id"] and run["campaign_id"]
    assert {s["state"] for s in run["steps"]} == {"done"}
    before = counts(app.sessions, tmp_path)
    ok, again = await call(app, "maya.chen", {**campaign_fields(), "idempotency_key": key})
    assert ok and again["workflow_id"] == run["workflow_id"] and again["campaign_id"] == run["campaign_id"]
    assert counts(app.sessions, tmp_path) == before
    ok, err = await call(app, "maya.chen", {**campaign_fields(name="Other name"), "idempotency_key": key})
    assert not ok and "idempotency_key_reused" in err
    assert counts(app.sessions, tmp_path) == before

    # Over $10,000: nothing starts until marketing-leadership approves; the approval id reaches the workflow.
    money = {"amount": "50000", "currency": "USD"}
    big = {**campaign_fields("event", name="Northwind summit"), "budget_planned": money}
    ok, held = await call(app, "maya.chen", big)
    assert ok and held["status"] == "approval_required" and held["required_group"] == "marketing-leadership"
    assert counts(app.sessions, tmp_path) == before
    ok, _ = await call(app, "lee.park", {"approval_id": held["approval_id"], "decision": "approve"}, "resolve_approval")
    assert ok
    ok, done = await call(app, "maya.chen", {**big, "approval_id": held["approval_id"]})
    assert ok and done["status"] == "SUCCESS" and done["system"] == "asana", done
    recorded = await DBOS.list_workflow_steps_async(done["workflow_id"])
    steps = {s["function_name"].rsplit(".", 1)[-1]: s["output"] for s in recorded}
    assert steps["policy"]["approval_id"] == held["approval_id"]
    assert counts(app.sessions, tmp_path)["asana_projects"] == 1

    # Event marketers work in Asana only: the spine refuses them before anything starts.
    after = counts(app.sessions, tmp_path)
    ok, err = await call(app, "eve.ruiz", {**campaign_fields(name="Not mine"), "idempotency_key": "k-eve-00001"})
    assert not ok and "[denied] no rule permits eve.ruiz" in err, err
    assert counts(app.sessions, tmp_path) == after
    assert app.audit_log().verify().ok


async def test_an_existing_campaign_is_set_up_without_approval_and_mixed_modes_are_refused(
    app: App, tmp_path: Path
) -> None:
    money = {"amount": "5000", "currency": "USD"}
    ok, made = await call(app, "maya.chen", {**campaign_fields(name="Spring push"), "budget_planned": money},
                          "create_campaign")  # fmt: skip
    assert ok, made
    cid = made["id"]
    before = counts(app.sessions, tmp_path)
    ok, run = await call(app, "maya.chen", {"campaign_id": cid, "idempotency_key": f"ex-{uuid.uuid4().hex[:8]}"})
    assert ok and run["status"] == "SUCCESS" and run["campaign_id"] == cid, run  # no approval: it sets no money
    assert run["system"] == "workfront" and run["template"] == "t2-campaign" and "maya.chen" in run["assigned"]
    after = counts(app.sessions, tmp_path)
    assert after["wf_projects"] == before["wf_projects"] + 1
    assert after["campaign.created"] == before["campaign.created"]  # found, not created
    assert after["campaign.synced"] == before["campaign.synced"] + 1

    refused = {
        "name": {"campaign_id": cid, "name": "Renamed"},
        "project_id": {"project_id": "abc123"},
        "tier": {k: v for k, v in campaign_fields().items() if k != "tier"},
    }
    for field, args in refused.items():
        ok, err = await call(app, "maya.chen", {**args, "idempotency_key": f"bad-{uuid.uuid4().hex[:8]}"})
        assert not ok and f"{field}:" in err, (field, err)
    assert counts(app.sessions, tmp_path) == after

    # Another tenant's (or no) campaign: the workflow stops at validate, nothing is created.
    ok, run = await call(app, "maya.chen", {"campaign_id": str(uuid.uuid4()), "idempotency_key": "ex-missing-01"})
    assert ok and run["status"] == "ERROR" and run["error"].startswith("validate: campaign_id"), run
    assert counts(app.sessions, tmp_path) == after
