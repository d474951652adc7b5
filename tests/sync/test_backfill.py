"""Backfill from the local wire-format Workfront server through `mcc import`, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.models import Campaign, SystemRef, WorkItem
from spine.repositories import open_store
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["workfront_wire", "workfront_wire_server"]
runner = CliRunner()
WF_DANA = "e" * 32


def mcc(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def mcc_json(*args: str) -> Any:
    code, out = mcc(*args, "--json")
    assert code == 0, out
    return json.loads(out)


def put_project(wire: WorkfrontWireServer, name: str, start: str, tasks: int, **extra: Any) -> str:
    pid = uuid.uuid4().hex
    wire.state.objects["PROJ"][pid] = {"ID": pid, "objCode": "PROJ", "name": name, "status": "CUR",
                                       "plannedStartDate": start, "plannedCompletionDate": start, **extra}  # fmt: skip
    for i in range(tasks):
        tid = uuid.uuid4().hex
        wire.state.objects["TASK"][tid] = {
            "ID": tid, "objCode": "TASK", "projectID": pid, "name": f"{name} step {i + 1}",
            "status": ["NEW", "INP", "CPL"][i % 3], "plannedStartDate": start, "plannedCompletionDate": start,
            "percentComplete": [0.0, 40.0, 100.0][i % 3], "assignedToID": WF_DANA if i == 0 else None,
        }  # fmt: skip
    return pid


@pytest.fixture
def world(tmp_path: Path, db_url: str, workfront_wire: WorkfrontWireServer,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # fmt: skip
    """Tenant newco with two campaigns, connected to a Workfront holding three existing projects."""
    for var in ("MCC_POLICY_MODE", "MCC_USER", "MCC_TENANT", "MCC_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_DATABASE_URL", db_url)
    monkeypatch.setenv("NEWCO_WF", TOKEN)
    assert mcc("tenants", "create", "newco", "--name", "NewCo")[0] == 0
    assert mcc("users", "add", "dana.ortiz", "--tenant", "newco", "--group", "campaign-managers",
               "--workfront-id", WF_DANA)[0] == 0  # fmt: skip
    with open_app(load_settings()) as app, open_store(app.sessions, "newco") as store:
        owner = {"owner_id": "dana.ortiz"}
        spring = store.campaigns.create({"name": "Spring Analytics Launch", "type": "product_launch", "tier": 1,
                                         "launch_date": "2027-03-01", **owner}, actor="t")  # fmt: skip
        webinar = store.campaigns.create({"name": "Partner Webinar Series", "type": "partner", "tier": 2,
                                          "launch_date": "2027-05-10", **owner}, actor="t")  # fmt: skip
    ids = {
        "spring": spring.id, "webinar": webinar.id,
        "p_fuzzy": put_project(workfront_wire, "Spring Analytics Launch 2027", "2027-03-04", 6),
        "p_exact": put_project(workfront_wire, "WBNR series (ops)", "2027-01-01", 3, extRefID=webinar.id),
        "p_new": put_project(workfront_wire, "Holiday Gift Guide", "2027-11-15", 4, ownerID=WF_DANA),
    }  # fmt: skip
    assert mcc("connect", "workfront", "--tenant", "newco", "--url", workfront_wire.base_url,
               "--api-key-env", "NEWCO_WF")[0] == 0  # fmt: skip
    return ids


def counts() -> tuple[int, int, int]:
    with open_app(load_settings()) as app, app.sessions() as s:
        return (s.scalar(select(func.count()).select_from(Campaign)) or 0,
                s.scalar(select(func.count()).select_from(SystemRef)) or 0,
                s.scalar(select(func.count()).select_from(WorkItem)) or 0)  # fmt: skip


def test_import_proposes_exact_fuzzy_and_new_and_accepting_mirrors_every_task(world: dict[str, str]) -> None:
    before = counts()
    dry = mcc_json("import", "workfront", "--tenant", "newco", "--dry-run")
    assert (dry["projects"], dry["tasks"], dry["exact"], dry["fuzzy"], dry["new"]) == (3, 13, 1, 1, 1)
    assert mcc_json("import", "review", "--tenant", "newco") == []  # a dry run stores nothing
    mcc_json("import", "workfront", "--tenant", "newco")
    review = {r["project_id"]: r for r in mcc_json("import", "review", "--tenant", "newco")}
    assert review[world["p_exact"]]["campaign_id"] == world["webinar"] and review[world["p_exact"]]["score"] == 1.0
    assert review[world["p_fuzzy"]]["campaign_id"] == world["spring"] and review[world["p_fuzzy"]]["match"] == "fuzzy"
    assert review[world["p_new"]]["campaign_id"] is None and "owner_inferred" in review[world["p_new"]]["flags"]
    assert counts() == before  # proposals only: nothing linked yet

    applied = mcc_json("import", "accept", "--tenant", "newco", "--accept-above", "0.6", "--as", "dana.ortiz")
    assert {a["campaign_id"] for a in applied} == {world["spring"], world["webinar"]}
    new = review[world["p_new"]]["proposal_id"]
    created = mcc_json("import", "accept", new[:8], "--tenant", "newco", "--as", "dana.ortiz")[0]
    assert created["campaign_created"] and created["work_items"] == 4
    with open_app(load_settings()) as app, open_store(app.sessions, "newco") as store:
        camp = store.campaigns.get(created["campaign_id"])
        assert camp.owner_id == "dana.ortiz" and camp.launch_date == dt.date(2027, 11, 15)  # from the identity map
        items = store.work_items.list(campaign_id=world["spring"])
        assert len(items) == 6 and {i.status for i in items} == {"not_started", "in_progress", "completed"}
        assert any(i.assignee_id == "dana.ortiz" for i in items)
        assert store.refs.canonical_id("workfront", "campaign", world["p_fuzzy"]) == world["spring"]
    assert counts()[2] == before[2] + 13

    again = mcc_json("import", "workfront", "--tenant", "newco")  # idempotent: everything is linked now
    assert again["already_linked"] == 3 and again["new"] == again["fuzzy"] == again["exact"] == 0
    assert counts()[2] == before[2] + 13
    code, out = mcc("import", "accept", new, "--tenant", "newco", "--as", "dana.ortiz")
    assert code == 2 and "matches no open proposal" in out  # an applied proposal is never applied twice


def test_rejected_projects_stay_rejected_and_bad_requests_change_nothing(world: dict[str, str]) -> None:
    mcc_json("import", "workfront", "--tenant", "newco")
    review = {r["project_id"]: r for r in mcc_json("import", "review", "--tenant", "newco")}
    assert mcc("import", "reject", review[world["p_new"]]["proposal_id"], "--tenant", "newco")[0] == 0
    again = mcc_json("import", "workfront", "--tenant", "newco")
    assert again["unchanged_decided"] == 1 and again["new"] == 0
    assert [r["project_id"] for r in mcc_json("import", "review", "--tenant", "newco", "--status", "rejected")] == [
        world["p_new"]
    ]
    before = counts()
    assert mcc("import", "accept", "--tenant", "newco", "--above", "0.5")[0] == 2  # who accepts?
    assert mcc("import", "accept", "--tenant", "newco", "--above", "0.5", "--as", "ghost")[0] == 2
    assert mcc("import", "workfront", "--tenant", "newco", "--since", "last week")[0] == 2
    assert mcc("import", "workfront", "--tenant", "other")[0] == 2  # no such tenant / connection
    assert counts() == before


def test_an_unreachable_workfront_is_an_error_and_stores_nothing(
    world: dict[str, str], workfront_wire: WorkfrontWireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWCO_WF", "not-the-token")
    code, out = mcc("import", "workfront", "--tenant", "newco")
    assert (code == 2 and "forbidden" in out.lower()) or "refused" in out.lower()
    assert mcc_json("import", "review", "--tenant", "newco") == []
