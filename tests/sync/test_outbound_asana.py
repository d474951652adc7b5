"""Outbound to Asana: tier and budget reach the project's "MCC Tier" / "MCC Budget Planned" custom fields through
the queue, against the Asana wire server (429 Retry-After included) and the sandbox; a workspace without one of the
fields lands in the error log naming the field and the fix; nothing is written twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from connectors.asana.client import AsanaRestClient
from connectors.asana.custom_fields import BUDGET_FIELD, GIDS_SETTING, TIER_FIELD
from connectors.asana.sandbox import AsanaSandbox
from mcc.cli import app as cli
from spine.db import transaction
from spine.models import ErrorLog
from sync.durable import Durable, DurableConfig, launch_durable
from sync.outbound import asana_changes
from sync.outbound_state import retry_errors
from tests.sync.outbound_helpers import T, edit, link, make_outbound, new_campaign, run, sync_state
from tests.wire.asana_custom_fields import add_custom_field
from tests.wire.asana_server import AsanaWireServer, asana_wire_server

__all__ = ["asana_wire_server"]

TOKEN = "0/outbound-asana-token-1234567890"


@pytest.fixture(scope="module")
def durable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Durable]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dbos') / 'dbos.sqlite'}"
    with launch_durable(DurableConfig(system_database_url=url, polling_interval_sec=0.05)) as d:
        yield d


@pytest.fixture
def wire(asana_wire_server: Any) -> AsanaWireServer:
    server: AsanaWireServer = asana_wire_server()
    ws = server.state.add_workspace("Acme")
    server.state.add_user("Maya Chen", "maya@acme.test", ws, token=TOKEN)
    return server


def _ws(wire: AsanaWireServer) -> str:
    return next(iter(wire.state.workspaces))


def _opener(wire: AsanaWireServer) -> Any:
    return lambda _t, _s: AsanaRestClient(wire.base_url, token=TOKEN, workspace_gid=_ws(wire), backoff_base=0.001,
                                          backoff_max=0.01, max_retry_after=5)  # fmt: skip


def _project(wire: AsanaWireServer) -> str:
    async def create() -> str:
        async with _opener(wire)("", "asana") as client:
            return (await client.create_project({"name": "Spring Launch", "workspace": _ws(wire),
                                                 "start_on": "2027-03-01", "due_on": "2027-04-30"})).gid  # fmt: skip

    return asyncio.run(create())


def _writes(wire: AsanaWireServer, gid: str) -> list[str]:
    return [f"{r['method']} {r['path'].removeprefix('/api/1.0')}" for r in wire.requests
            if r["method"] in ("PUT", "POST") and gid in r["path"]]  # fmt: skip


def _values(wire: AsanaWireServer, gid: str) -> dict[str, Any]:
    return {wire.state.custom_fields[f]["name"]: v for f, v in wire.state.projects[gid].get("cf", {}).items()}


def test_asana_changes_put_tier_and_budget_under_custom_fields() -> None:
    budget = {"amount": "100", "currency": "EUR"}
    assert asana_changes({"name": "N", "tier": 3, "budget_planned": budget, "tags": ["x"]}) == {
        "name": "N", "custom_fields": {"tier": 3, "budget_planned": budget}}  # fmt: skip
    assert "custom_fields" not in asana_changes({"description": None})


def test_tier_and_budget_reach_the_wire_project_once_despite_429(
    session_factory: sessionmaker[Session], wire: AsanaWireServer, durable: Durable
) -> None:
    add_custom_field(wire.state, _ws(wire), TIER_FIELD, "number")
    add_custom_field(wire.state, _ws(wire), BUDGET_FIELD, "number", precision=2, currency_code="USD")
    cid = new_campaign(session_factory)
    gid = _project(wire)
    link(session_factory, cid, "asana", gid)
    edit(session_factory, cid, name="Spring Launch 2027", tier=1, budget_planned={"amount": "62000", "currency": "USD"})
    # The client waits out two 429s (Retry-After: 0); the third reaches the workflow, which sleeps and sends again.
    wire.inject(429, times=3, retry_after="0")
    results = run(make_outbound(session_factory, _opener(wire)), durable)
    assert list(results.values()) == ["synced"]
    assert wire.state.projects[gid]["name"] == "Spring Launch 2027"
    assert _values(wire, gid) == {TIER_FIELD: 1.0, BUDGET_FIELD: 62000.0}
    assert _writes(wire, gid) == [f"PUT /projects/{gid}", f"POST /projects/{gid}/addCustomFieldSetting",
                                  f"POST /projects/{gid}/addCustomFieldSetting", f"PUT /projects/{gid}"]  # fmt: skip
    state = sync_state(session_factory, cid, "asana")
    assert state.status == "synced" and all(v["sent"] == v["out"] for v in state.field_versions.values())
    assert run(make_outbound(session_factory, _opener(wire)), durable) == {}  # nothing left to send

    # The same values sent again (a re-run cut off before its confirm): read, compared, nothing written.
    outbound = make_outbound(session_factory, _opener(wire))
    wanted = asana_changes({"name": "Spring Launch 2027", "tier": 1,
                            "budget_planned": {"amount": "62000.00", "currency": "USD"}})  # fmt: skip
    assert asyncio.run(outbound._send(T, "asana", gid, wanted)) == {"ok": True, "sent": {}}
    assert len(_writes(wire, gid)) == 4

    edit(session_factory, cid, tier=2)  # only the changed field goes out
    assert list(run(make_outbound(session_factory, _opener(wire)), durable).values()) == ["synced"]
    assert _values(wire, gid) == {TIER_FIELD: 2.0, BUDGET_FIELD: 62000.0}
    assert _writes(wire, gid)[4:] == [f"PUT /projects/{gid}"]


def test_a_missing_custom_field_is_in_the_error_log_with_the_fix_then_retried(
    session_factory: sessionmaker[Session], engine: Engine, wire: AsanaWireServer, durable: Durable,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    add_custom_field(wire.state, _ws(wire), BUDGET_FIELD, "text")
    cid = new_campaign(session_factory)
    gid = _project(wire)
    link(session_factory, cid, "asana", gid)
    edit(session_factory, cid, name="Spring Launch EMEA", tier=1)
    results = run(make_outbound(session_factory, _opener(wire)), durable)
    assert list(results.values()) == ["error"]  # permanent: not retried until the field exists
    assert wire.state.projects[gid]["name"] == "Spring Launch EMEA"  # the project fields still went out
    assert _values(wire, gid) == {}
    assert sync_state(session_factory, cid, "asana").status == "error"
    with session_factory() as s:
        (err,) = s.scalars(select(ErrorLog)).all()
    assert err.step == "outbound.send.asana" and err.campaign_id == cid and err.error_type == "MissingCustomField"
    assert TIER_FIELD in err.error_message and err.error_details and err.error_details["field"] == TIER_FIELD
    assert err.error_details["attempts"] == 1 and GIDS_SETTING in err.error_details["fix"]

    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    out = CliRunner().invoke(cli, ["sync", "errors", "--tenant", T, "--json"])
    assert out.exit_code == 0, out.output
    (shown,) = json.loads(out.output)
    assert shown["step"] == "outbound.send.asana" and TIER_FIELD in json.dumps(shown)

    add_custom_field(wire.state, _ws(wire), TIER_FIELD, "number")  # the fix: create the field, then retry
    with transaction(session_factory) as s:
        assert retry_errors(s, T) == 1
    assert list(run(make_outbound(session_factory, _opener(wire)), durable).values()) == ["synced"]
    assert _values(wire, gid) == {TIER_FIELD: 1.0}
    assert [w for w in _writes(wire, gid) if w == f"PUT /projects/{gid}"] == [f"PUT /projects/{gid}"] * 2  # name once


def test_the_sandbox_receives_tier_and_budget(
    session_factory: sessionmaker[Session], durable: Durable, tmp_path: Path
) -> None:
    db = tmp_path / "asana.db"
    seed = AsanaSandbox(db).seed_demo(workspace_name="Acme")  # the demo workspace has both MCC fields

    async def create() -> str:
        sandbox = AsanaSandbox(db)
        try:
            return (await sandbox.create_project({"name": "Spring Launch", "workspace": seed.workspace_gid})).gid
        finally:
            await sandbox.aclose()

    gid = asyncio.run(create())
    cid = new_campaign(session_factory)
    link(session_factory, cid, "asana", gid)
    edit(session_factory, cid, tier=3, budget_planned={"amount": "1250.5", "currency": "EUR"})
    results = run(make_outbound(session_factory, lambda _t, _s: AsanaSandbox(db)), durable)
    assert list(results.values()) == ["synced"]

    async def read() -> dict[str, Any]:
        sandbox = AsanaSandbox(db)
        try:
            entries = (await sandbox.project_fields().project_fields(gid)).entries
            return {e["name"]: e["number_value"] for e in entries}
        finally:
            await sandbox.aclose()

    assert asyncio.run(read()) == {TIER_FIELD: 3.0, BUDGET_FIELD: 1250.5}
