"""A running worker sends MCC's campaign changes out by itself: no `mcc sync push` needed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dbos import DBOS

from connectors.workfront.sandbox import WorkfrontSandbox
from mcc.settings import Settings
from mcc.wiring import open_app
from mcc.workers import Sweeper
from spine.repositories import create_tenant, open_store

T = "autoco"


def _sandbox_project(directory: Path, action: str, pid: str | None = None) -> str:
    async def go() -> str:
        wf = WorkfrontSandbox(directory)
        try:
            if action == "create":
                return (await wf.create_project("Autumn Push", planned_start_date="2027-09-01")).id
            return (await wf.get_project(pid or "")).project.name
        finally:
            await wf.aclose()

    return asyncio.run(go())


def test_a_worker_sweep_propagates_an_edit_without_a_push(tmp_path: Path, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the worker loop is the same on both databases; propagation itself runs on both in tests/sync")
    settings = Settings(home=tmp_path / "home", database_url=db_url, dbos_polling_sec=0.05)
    sandbox = settings.sandbox_dir / T / "workfront"
    pid = _sandbox_project(sandbox, "create")
    with open_app(settings) as app:
        with app.sessions() as s, s.begin():
            create_tenant(s, T, "AutoCo")
        with open_store(app.sessions, T) as store:
            store.directory.add_user({"user_id": "lee", "display_name": "Lee", "email": "lee@autoco.test"})
            camp = store.campaigns.create({"name": "Autumn Push", "type": "standard", "tier": 2,
                                           "launch_date": "2027-09-01", "owner_id": "lee"}, actor="lee")  # fmt: skip
            store.refs.link("campaign", camp.id, "workfront", pid, actor="lee")
            store.campaigns.update(camp.id, {"name": "Autumn Push EU"}, expected_version=1, actor="lee")
        with app.workers() as workers:
            sweep = Sweeper(app, workers, outbound_every=0.0)
            sweep()  # the worker's periodic sweep: inbox rows, then MCC changes out
            runs = DBOS.list_workflows(workflow_id_prefix=f"outbound:{T}:", load_input=False, load_output=False)
            assert len(runs) == 1, "one propagation for the one linked project"
            assert DBOS.retrieve_workflow(runs[0].workflow_id).get_result(polling_interval_sec=0.05) == "synced"
            assert sweep.plan_outbound() == []  # sent once; nothing left to plan
    assert _sandbox_project(sandbox, "read", pid) == "Autumn Push EU"
