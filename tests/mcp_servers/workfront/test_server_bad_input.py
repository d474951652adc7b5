"""Bad input for every Workfront write tool, table-driven: the call fails, the error names the argument, and
nothing is written to Workfront (every object re-read) or to the spine (rows and versions re-read)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from policies.engine import PolicyEngine
from tests.mcp_servers.workfront.server_world import (
    ACME,
    WfWorld,
    call,
    make_policy_engine,
    open_world,
)


@pytest.fixture(scope="module")
def wf_policy() -> PolicyEngine:
    return make_policy_engine()


@pytest.fixture
async def wf_world(engine: Engine, tmp_path: Path, wf_policy: PolicyEngine) -> AsyncIterator[WfWorld]:
    async with open_world(engine, tmp_path, wf_policy) as world:
        yield world


MISSING = "f" * 32  # well-formed, names nothing
UPPER = "ABCDEF0123456789ABCDEF0123456789"
DASHED = "0f8fad5b-d9cb-469f-a165-70867728950e"
LONG_NAME = "n" * 256
LONG_TEXT = "d" * 4001


class Ids:
    """IDs of the base world: a project linked to 'Spring Launch' with the template's four tasks."""

    def __init__(self, w: WfWorld, made: dict[str, Any]) -> None:
        self.w = w
        self.project = made["project"]["id"]
        self.task = made["tasks"][0]["id"]  # 'Creative brief': 2027-02-01 .. 2027-02-02
        self.user = w.user()
        self.template = w.template
        self.campaign = w.campaigns[ACME]["Spring Launch"]
        self.free_campaign = w.campaigns[ACME]["Summer Email"]


Case = tuple[str, Callable[[Ids], dict[str, Any]]]  # (argument the error must name, arguments)

CASES: dict[str, list[Case]] = {
    "create_project": [
        ("template_id", lambda i: {"name": "x", "template_id": MISSING}),
        ("portfolio_id", lambda i: {"name": "x", "portfolio_id": MISSING}),
        ("owner_id", lambda i: {"name": "x", "owner_id": MISSING}),
        ("template_id", lambda i: {"name": "x", "template_id": "12345"}),
        ("owner_id", lambda i: {"name": "x", "owner_id": DASHED}),
        (
            "planned_completion_date",
            lambda i: {"name": "x", "planned_start_date": "2027-03-01", "planned_completion_date": "2027-02-01"},
        ),
        ("planned_start_date", lambda i: {"name": "x", "planned_start_date": "2027-02-30"}),
        ("planned_start_date", lambda i: {"name": "x", "planned_start_date": "01/02/2027"}),
        ("name", lambda i: {"name": LONG_NAME}),
        ("name", lambda i: {"name": "   "}),
        ("name", lambda i: {"template_id": i.template}),
        ("description", lambda i: {"name": "x", "description": LONG_TEXT}),
        ("colour", lambda i: {"name": "x", "colour": "red"}),
        ("custom_fields", lambda i: {"name": "x", "custom_fields": {"Budget": 1}}),
        ("custom_fields", lambda i: {"name": "x", "custom_fields": {"DE:Notes": "v" * 2001}}),
        (
            "budget",
            lambda i: {"name": "x", "custom_fields": {"DE:Budget": "1"}, "budget": {"amount": "10", "currency": "USD"}},
        ),
        ("budget.amount", lambda i: {"name": "x", "budget": {"amount": "-5", "currency": "USD"}}),
        ("budget.currency", lambda i: {"name": "x", "budget": {"amount": "5", "currency": "ZZZ"}}),
        ("campaign_id", lambda i: {"name": "x", "campaign_id": "not-a-uuid"}),
        ("campaign_id", lambda i: {"name": "x", "campaign_id": str(uuid.uuid4())}),
        ("campaign_id", lambda i: {"name": "x", "template_id": i.template, "campaign_id": i.campaign}),
        ("campaign_id", lambda i: {"name": "x", "template_id": MISSING, "campaign_id": i.campaign}),
        ("idempotency_key", lambda i: {"name": "x", "idempotency_key": "short"}),
    ],
    "create_task": [
        ("project_id", lambda i: {"project_id": MISSING, "name": "x"}),
        ("project_id", lambda i: {"project_id": "abc", "name": "x"}),
        ("project_id", lambda i: {"project_id": UPPER, "name": "x"}),
        ("assigned_to_id", lambda i: {"project_id": i.project, "name": "x", "assigned_to_id": MISSING}),
        ("parent_id", lambda i: {"project_id": i.project, "name": "x", "parent_id": MISSING}),
        (
            "planned_completion_date",
            lambda i: {
                "project_id": i.project,
                "name": "x",
                "planned_start_date": "2027-02-10",
                "planned_completion_date": "2027-02-09",
            },
        ),
        ("name", lambda i: {"project_id": i.project, "name": LONG_NAME}),
        ("name", lambda i: {"project_id": i.project}),
        ("description", lambda i: {"project_id": i.project, "name": "x", "description": LONG_TEXT}),
        ("work_required", lambda i: {"project_id": i.project, "name": "x", "work_required": -1}),
        ("work_required", lambda i: {"project_id": i.project, "name": "x", "work_required": 10**9}),
        ("status", lambda i: {"project_id": i.project, "name": "x", "status": "INP"}),
    ],
    "update_task": [
        ("task_id", lambda i: {"task_id": MISSING, "name": "x"}),
        ("task_id", lambda i: {"task_id": UPPER, "name": "x"}),
        (
            "planned_completion_date",
            lambda i: {"task_id": i.task, "planned_start_date": "2027-02-10", "planned_completion_date": "2027-02-09"},
        ),
        ("planned_completion_date", lambda i: {"task_id": i.task, "planned_completion_date": "2027-01-15"}),
        ("planned_start_date", lambda i: {"task_id": i.task, "planned_start_date": "2027-03-15"}),
        ("percent_complete", lambda i: {"task_id": i.task, "percent_complete": 101}),
        ("name", lambda i: {"task_id": i.task, "name": ""}),
        ("name", lambda i: {"task_id": i.task, "name": LONG_NAME}),
        ("description", lambda i: {"task_id": i.task, "description": LONG_TEXT}),
        ("status", lambda i: {"task_id": i.task, "status": "CPL"}),
        ("assigned_to_id", lambda i: {"task_id": i.task, "assigned_to_id": i.user}),
        ("arguments", lambda i: {"task_id": i.task}),
    ],
    "update_status": [
        ("obj_id", lambda i: {"obj_type": "project", "obj_id": MISSING, "status": "CUR"}),
        ("obj_id", lambda i: {"obj_type": "task", "obj_id": MISSING, "status": "INP"}),
        ("obj_id", lambda i: {"obj_type": "task", "obj_id": i.project, "status": "INP"}),
        ("obj_id", lambda i: {"obj_type": "project", "obj_id": "123", "status": "CUR"}),
        ("status", lambda i: {"obj_type": "project", "obj_id": i.project, "status": "DONE"}),
        ("status", lambda i: {"obj_type": "project", "obj_id": i.project, "status": "CPA"}),
        ("status", lambda i: {"obj_type": "task", "obj_id": i.task, "status": "CUR"}),
        ("obj_type", lambda i: {"obj_type": "issue", "obj_id": i.task, "status": "NEW"}),
        ("note", lambda i: {"obj_type": "task", "obj_id": i.task, "status": "INP", "note": "why"}),
    ],
    "assign_resource": [
        ("task_id", lambda i: {"task_id": MISSING, "user_id": i.user}),
        ("user_id", lambda i: {"task_id": i.task, "user_id": MISSING}),
        ("user_id", lambda i: {"task_id": i.task, "user_id": "alex.rivera"}),
        ("task_id", lambda i: {"task_id": DASHED, "user_id": i.user}),
        ("user_id", lambda i: {"task_id": i.task}),
        ("team_id", lambda i: {"task_id": i.task, "user_id": i.user, "team_id": i.user}),
    ],
    "create_issue": [
        ("project_id", lambda i: {"project_id": MISSING, "name": "x"}),
        ("project_id", lambda i: {"project_id": "p-1", "name": "x"}),
        ("priority", lambda i: {"project_id": i.project, "name": "x", "priority": 9}),
        ("name", lambda i: {"project_id": i.project, "name": LONG_NAME}),
        ("description", lambda i: {"project_id": i.project, "name": "x", "description": LONG_TEXT}),
        ("assigned_to_id", lambda i: {"project_id": i.project, "name": "x", "assigned_to_id": MISSING}),
        ("severity", lambda i: {"project_id": i.project, "name": "x", "severity": "high"}),
    ],
    "add_note": [
        ("obj_id", lambda i: {"obj_code": "PROJ", "obj_id": MISSING, "text": "x"}),
        ("obj_id", lambda i: {"obj_code": "TASK", "obj_id": i.project, "text": "x"}),
        ("obj_id", lambda i: {"obj_code": "OPTASK", "obj_id": MISSING, "text": "x"}),
        ("obj_id", lambda i: {"obj_code": "PROJ", "obj_id": "xyz", "text": "x"}),
        ("obj_code", lambda i: {"obj_code": "USER", "obj_id": i.user, "text": "x"}),
        ("text", lambda i: {"obj_code": "PROJ", "obj_id": i.project, "text": ""}),
        ("text", lambda i: {"obj_code": "PROJ", "obj_id": i.project, "text": LONG_TEXT}),
        ("private", lambda i: {"obj_code": "PROJ", "obj_id": i.project, "text": "x", "private": True}),
    ],
}


def test_every_write_tool_has_cases() -> None:
    assert set(CASES) == {
        "create_project",
        "create_task",
        "update_task",
        "update_status",
        "assign_resource",
        "create_issue",
        "add_note",
    }


@pytest.mark.parametrize("tool", sorted(CASES))
async def test_bad_input_names_the_argument_and_writes_nothing(wf_world: WfWorld, tool: str) -> None:
    w, maya = wf_world, wf_world.server("maya.chen")
    ok, made = await call(
        maya,
        "create_project",
        {
            "name": "Base",
            "template_id": w.template,
            "planned_start_date": "2027-02-01",
            "campaign_id": w.campaigns[ACME]["Spring Launch"],
        },
    )
    assert ok, made
    ids = Ids(w, made)
    before = (await w.workfront_state(), w.spine_state())
    for arg, build in CASES[tool]:
        args = build(ids)
        ok, err = await call(maya, tool, args)
        assert not ok, (tool, args)
        assert re.search(rf"\[\w+\] {re.escape(arg)}\b", err), (tool, arg, err)
        assert "Traceback" not in err and "sqlalchemy" not in err.lower()
        assert (await w.workfront_state(), w.spine_state()) == before, (tool, args, err)
