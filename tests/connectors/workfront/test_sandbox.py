"""Sandbox specifics: persistence across reopen, idempotency keys, demo seeding."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.workfront.backend import WorkfrontBackend
from connectors.workfront.errors import InvalidArgument
from connectors.workfront.sandbox import DB_FILENAME, WorkfrontSandbox
from connectors.workfront.seed import default_directory, demo_guid, seed_demo
from tests.connectors.workfront.conftest import ALICE, DIRECTORY, TEMPLATE


async def test_state_survives_reopen(tmp_path: Path) -> None:
    first = WorkfrontSandbox(tmp_path)
    assert isinstance(first, WorkfrontBackend)
    await first.load_directory(DIRECTORY)
    project = await first.create_project(
        "Durable", template_id=TEMPLATE, planned_start_date="2026-03-02", custom_fields={"DE:Region": "EMEA"}
    )
    task = await first.create_task(project.id, "Extra", assigned_to_id=ALICE, idempotency_key="task-1")
    await first.update_status("project", project.id, "CUR")
    await first.aclose()
    assert (tmp_path / DB_FILENAME).exists()

    second = WorkfrontSandbox(tmp_path)
    summary = await second.get_project(project.id)
    assert summary.project.status == "CUR" and summary.task_total == 4
    assert summary.project.custom_fields == {"DE:Region": "EMEA"}
    again = await second.create_task(project.id, "Extra", assigned_to_id=ALICE, idempotency_key="task-1")
    assert again.id == task.id  # the idempotency record is persistent too
    assert (await second.search("TASK", {"projectID": project.id})).total == 4
    await second.aclose()


async def test_idempotency_keys(tmp_path: Path) -> None:
    sandbox = WorkfrontSandbox(tmp_path)
    one = await sandbox.create_project("Once", planned_start_date="2026-03-02", idempotency_key="k1")
    two = await sandbox.create_project("Once", planned_start_date="2026-03-02", idempotency_key="k1")
    assert one == two
    assert (await sandbox.search("PROJ")).total == 1
    with pytest.raises(InvalidArgument) as info:
        await sandbox.create_project("Different", planned_start_date="2026-03-02", idempotency_key="k1")
    assert info.value.field == "idempotency_key"
    issue = await sandbox.create_issue(one.id, "Bug", idempotency_key="i1")
    assert (await sandbox.create_issue(one.id, "Bug", idempotency_key="i1")).id == issue.id
    note = await sandbox.add_note("PROJ", one.id, "hi", idempotency_key="n1")
    assert (await sandbox.add_note("PROJ", one.id, "hi", idempotency_key="n1")) == note
    assert (await sandbox.search("NOTE")).total == 1
    await sandbox.aclose()


async def test_seed_demo_is_repeatable(tmp_path: Path) -> None:
    sandbox = WorkfrontSandbox(tmp_path)
    directory = default_directory()
    alex = demo_guid("user", "Alex Rivera")
    projects = [
        {
            "key": "spring",
            "name": "Spring Launch",
            "template_id": demo_guid("template", "Product Launch Campaign"),
            "planned_start_date": "2026-03-02",
            "portfolio_id": demo_guid("portfolio", "Campaigns"),
            "custom_fields": {"DE:MCC Campaign ID": "c-1"},
            "status": "CUR",
            "tasks": [{"name": "Paid social", "assigned_to_id": alex, "work_required": 600, "status": "INP"}],
        }
    ]
    first = await seed_demo(sandbox, projects)
    second = await seed_demo(sandbox, projects)
    assert first == second
    assert first.users["Alex Rivera"] == alex and len(first.users) == len(directory.users)
    seeded = first.projects[0]
    summary = await sandbox.get_project(seeded.id)
    assert summary.project.status == "CUR"
    assert summary.task_total == 5 and summary.task_counts["INP"] == 1
    assert (await sandbox.search("PROJ")).total == 1
    cap = await sandbox.get_capacity(first.teams["Creative"], "2026-03-02", "2026-03-06")
    assert [u.name for u in cap.users] == ["Alex Rivera", "Bea Chen", "Chris Okafor"]
    await sandbox.aclose()
