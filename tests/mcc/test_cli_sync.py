"""`mcc sync conflicts|resolve|inbox|process|pull` and `mcc webhooks subscribe|list` on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mcc.cli import app as cli
from mcc.settings import load_settings
from mcc.wiring import open_app
from spine.models import WorkItem
from spine.repositories import SpineStore
from tests.sync.inbound_world import AUDIT_KEY, T0, TENANT, World, build_world, deliver, task_update
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer, workfront_wire, workfront_wire_server

__all__ = ["workfront_wire", "workfront_wire_server"]
runner = CliRunner()


def mcc(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def mcc_json(*args: str) -> Any:
    code, out = mcc(*args, "--json")
    assert code == 0, out
    return json.loads(out)


@pytest.fixture
def world(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> World:
    for var in ("MCC_POLICY_MODE", "MCC_USER", "MCC_SECRET_KEY", "MCC_TENANT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MCC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MCC_DATABASE_URL", db_url)
    monkeypatch.setenv("MCC_AUDIT_KEY", AUDIT_KEY.decode())
    monkeypatch.setenv("MCC_TENANT", TENANT)
    with open_app(load_settings()) as app:
        w = build_world(app.sessions)
        with app.sessions() as s, s.begin():  # MCC moved task 2 under task 1 an hour after T0
            at = T0 + dt.timedelta(hours=1)
            SpineStore(s, TENANT).sync.record("work_item", w.item_ids[1], "workfront", ["parent_item_id"],
                                              source="mcc", at=at, status="pending")  # fmt: skip
            s.get(WorkItem, w.item_ids[1]).parent_item_id = w.item_ids[0]  # type: ignore[union-attr]
        deliver(w, task_update(w, 1, T0 + dt.timedelta(hours=2), {"parentID": w.task_ids[0]},
                               {"parentID": w.task_ids[2]}))  # fmt: skip
        deliver(w, task_update(w, 0, T0, {"status": "NEW"}, {"status": "INP"}))
    return w


def test_process_list_and_resolve_a_conflict(world: World) -> None:
    assert mcc_json("sync", "process") == {"processed": 2}
    inbox = mcc_json("sync", "inbox")
    assert {r["status"] for r in inbox} == {"processed"} and len(inbox) == 2
    conflicts = mcc_json("sync", "conflicts")
    assert len(conflicts) == 1 and conflicts[0]["field"] == "parent_item_id"
    code, out = mcc("sync", "conflicts")
    assert code == 0 and conflicts[0]["id"] in out
    code, out = mcc("sync", "resolve", conflicts[0]["id"], "--take", json.dumps(None), "--actor", "maya.chen")
    assert code == 0, out
    assert mcc_json("sync", "conflicts") == []
    assert mcc_json("sync", "conflicts", "--all")[0]["resolution"] == {"take": "value", "value": None}
    with open_app(load_settings()) as app, app.sessions() as s:
        assert s.get(WorkItem, world.item_ids[1]).parent_item_id is None  # type: ignore[union-attr]
        assert app.audit_log().verify().ok
    code, out = mcc("sync", "resolve", conflicts[0]["id"], "--take", "external")
    assert code == 2 and "already resolved" in out


def test_resolve_unknown_conflict_names_the_fix(world: World) -> None:
    code, out = mcc("sync", "resolve", "no-such-id", "--take", "mcc")
    assert code == 2 and "conflict" in out


def test_pull_and_subscribe_through_the_connection(world: World, workfront_wire: WorkfrontWireServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("ACME_WF", TOKEN)
    assert mcc("connect", "workfront", "--url", workfront_wire.base_url, "--api-key-env", "ACME_WF")[0] == 0
    now = dt.datetime.now(dt.UTC)
    workfront_wire.state.objects["TASK"][world.task_ids[2]] = {
        "ID": world.task_ids[2], "objCode": "TASK", "name": "Step 3", "projectID": world.project_id,
        "status": "CPA", "percentComplete": 90.0, "lastUpdateDate": now}  # fmt: skip
    report = mcc_json("sync", "pull", "--system", "workfront", "--since", (now - dt.timedelta(hours=1)).isoformat())
    assert report[0]["read"] == 1
    with open_app(load_settings()) as app, app.sessions() as s:
        assert s.get(WorkItem, world.item_ids[2]).status == "pending_review"  # type: ignore[union-attr]
    again = mcc_json("sync", "pull", "--system", "workfront")  # no --since: from the last pull's mark, less 5 min
    assert dt.datetime.fromisoformat(again[0]["since"]) > now - dt.timedelta(minutes=6)
    assert again[0]["read"] == 1  # the task changed inside the overlap; re-applying it changes nothing
    subscribed = mcc_json("webhooks", "subscribe", "--public-url", "https://mcc.acme.example")
    assert subscribed[0]["system"] == "workfront" and len(subscribed[0]["created"]) == 6
    assert subscribed[0]["target"] == f"https://mcc.acme.example/webhooks/workfront/{TENANT}"
    hooks = mcc_json("webhooks", "list")
    assert hooks == [{"system": "workfront", "hook": "default", "status": "active",
                      "external_id": ",".join(subscribed[0]["created"])}]  # fmt: skip
    assert "secret" not in json.dumps(hooks)
