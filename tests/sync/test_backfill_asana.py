"""Backfill from the local wire-format Asana server through `mcc import asana`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from connectors.asana.client import AsanaRestClient
from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.models import Campaign, SystemRef, WorkItem
from spine.repositories import open_store
from tests.wire.asana_server import AsanaWireServer, asana_wire_server

__all__ = ["asana_wire_server"]
runner = CliRunner()
TOKEN = "1/asana-backfill-token-0123456789"
BIG = 103  # tasks in one project: more than one page of 100


def mcc(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def mcc_json(*args: str) -> Any:
    code, out = mcc(*args, "--json")
    assert code == 0, out
    return json.loads(out)


async def _seed(wire: AsanaWireServer, ws: str, dana: str) -> dict[str, str]:
    """Projects made through the REST client, as a team would have made them in Asana."""
    async with AsanaRestClient(wire.base_url, token=TOKEN, workspace_gid=ws, backoff_base=0.001) as c:
        spring = await c.create_project({"name": "Spring Analytics Launch 2027", "start_on": "2027-03-04",
                                         "due_on": "2027-04-30"})  # fmt: skip
        for i in range(6):
            await c.create_task({"name": f"spring step {i + 1}", "projects": [spring.gid], "completed": i % 2 == 1,
                                 "assignee": dana if i == 0 else None, "start_on": "2027-03-04"})  # fmt: skip
        gifts = await c.create_project({"name": "Holiday Gift Guide", "start_on": "2027-11-15"})
        for i in range(BIG):
            await c.create_task({"name": f"gift {i + 1}", "projects": [gifts.gid]})
        old = await c.create_project({"name": "Old Trade Show"})
        await c.create_task({"name": "old booth", "projects": [old.gid]})
    wire.state.projects[old.gid]["modified_at"] = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
    return {"p_spring": spring.gid, "p_gifts": gifts.gid, "p_old": old.gid}


@pytest.fixture
def world(tmp_path: Path, db_url: str, asana_wire_server: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Tenant newco with one campaign, connected to an Asana workspace holding three existing projects."""
    for var in ("MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT", "MCC_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_DATABASE_URL", db_url)
    monkeypatch.setenv("NEWCO_AS", TOKEN)
    wire: AsanaWireServer = asana_wire_server()
    ws = wire.state.add_workspace("NewCo")
    wire.state.add_user("Alex Kim", "alex@newco.example", ws, token=TOKEN)
    dana = wire.state.add_user("Dana Ortiz", "dana@newco.example", ws)
    ids: dict[str, Any] = asyncio.run(_seed(wire, ws, dana))
    assert mcc("tenants", "create", "newco", "--name", "NewCo")[0] == 0
    assert mcc("users", "add", "dana.ortiz", "--tenant", "newco", "--group", "campaign-managers",
               "--asana-gid", dana)[0] == 0  # fmt: skip
    with open_app(load_settings()) as app, open_store(app.sessions, "newco") as store:
        spring = store.campaigns.create({"name": "Spring Analytics Launch", "type": "product_launch", "tier": 1,
                                         "launch_date": "2027-03-01", "owner_id": "dana.ortiz"}, actor="t")  # fmt: skip
    assert mcc("connect", "asana", "--tenant", "newco", "--url", wire.base_url, "--workspace", ws,
               "--token-env", "NEWCO_AS")[0] == 0  # fmt: skip
    return ids | {"spring": spring.id, "wire": wire}


def counts() -> tuple[int, int, int]:
    with open_app(load_settings()) as app, app.sessions() as s:
        return (s.scalar(select(func.count()).select_from(Campaign)) or 0,
                s.scalar(select(func.count()).select_from(SystemRef)) or 0,
                s.scalar(select(func.count()).select_from(WorkItem)) or 0)  # fmt: skip


def test_asana_import_proposes_pages_every_task_and_accepting_mirrors_them(world: dict[str, Any]) -> None:
    before = counts()
    dry = mcc_json("import", "asana", "--tenant", "newco", "--dry-run")
    assert (dry["projects"], dry["tasks"], dry["fuzzy"], dry["new"]) == (3, 6 + BIG + 1, 1, 2)
    assert mcc_json("import", "review", "--tenant", "newco") == []  # a dry run stores nothing
    mcc_json("import", "asana", "--tenant", "newco")
    review = {r["project_id"]: r for r in mcc_json("import", "review", "--tenant", "newco")}
    assert {r["system"] for r in review.values()} == {"asana"}
    assert review[world["p_spring"]]["campaign_id"] == world["spring"] and review[world["p_gifts"]]["tasks"] == BIG
    assert counts() == before  # proposals only

    applied = mcc_json("import", "accept", "--tenant", "newco", "--above", "0.6", "--as", "dana.ortiz")
    assert [a["campaign_id"] for a in applied] == [world["spring"]]
    gifts = mcc_json("import", "accept", review[world["p_gifts"]]["proposal_id"], "--tenant", "newco",
                     "--as", "dana.ortiz")[0]  # fmt: skip
    assert gifts["campaign_created"] and gifts["work_items"] == BIG
    with open_app(load_settings()) as app, open_store(app.sessions, "newco") as store:
        items = store.work_items.list(campaign_id=world["spring"])
        assert {i.status for i in items} == {"completed", "not_started"} and len(items) == 6
        assert {i.percent_complete for i in items if i.status == "completed"} == {100}
        assert [i.assignee_id for i in items if i.name == "spring step 1"] == ["dana.ortiz"]  # identity map
        assert all(i.source_system == "asana" for i in items)
        assert store.refs.canonical_id("asana", "campaign", world["p_spring"]) == world["spring"]
        assert store.campaigns.get(gifts["campaign_id"]).launch_date == dt.date(2027, 11, 15)
    assert counts()[2] == before[2] + 6 + BIG

    again = mcc_json("import", "asana", "--tenant", "newco")
    assert again["already_linked"] == 2 and again["new"] == 1 and again["fuzzy"] == 0  # only the old one is open
    assert counts()[2] == before[2] + 6 + BIG


def test_since_skips_projects_unchanged_since_and_failures_store_nothing(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    recent = mcc_json("import", "asana", "--tenant", "newco", "--since", "2026-01-01", "--dry-run")
    assert (recent["projects"], recent["tasks"]) == (2, 6 + BIG)
    before = counts()
    assert mcc("import", "asana", "--tenant", "newco", "--since", "yesterday")[0] == 2
    code, out = mcc("import", "asana", "--tenant", "other")
    assert code == 2 and "connection" in out
    monkeypatch.setenv("NEWCO_AS", "1/not-the-token-000000000000")
    code, out = mcc("import", "asana", "--tenant", "newco")
    assert code == 2, out
    assert mcc_json("import", "review", "--tenant", "newco") == [] and counts() == before
