"""Bad input to every Asana write tool: each call is a tool error whose text names the argument, and nothing
is written, neither in Asana (every sandbox row, read with sqlite3) nor in the spine (work items with their
versions, refs, events)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.mcp_servers.asana.server_world import ACME, UNKNOWN_GID, WRITES, AsanaWorld, make_world

Case = tuple[str, Callable[[dict[str, str]], dict[str, Any]], str]
LONG_NAME, LONG_TEXT = "n" * 1025, "t" * 65_536

CASES: dict[str, list[Case]] = {
    "create_project": [
        ("unknown workspace", lambda g: {"name": "P", "workspace": UNKNOWN_GID}, "workspace"),
        ("unknown team", lambda g: {"name": "P", "team": UNKNOWN_GID}, "team"),
        ("gid format", lambda g: {"name": "P", "team": "marketing"}, "team"),
        ("dates out of order", lambda g: {"name": "P", "start_on": "2027-03-02", "due_on": "2027-03-01"}, "start_on"),
        ("not a date", lambda g: {"name": "P", "due_on": "2027-02-30"}, "due_on"),
        ("oversize name", lambda g: {"name": LONG_NAME}, "name"),
        ("oversize notes", lambda g: {"name": "P", "notes": LONG_TEXT}, "notes"),
        ("empty name", lambda g: {"name": "  "}, "name"),
        ("unknown field", lambda g: {"name": "P", "color": "red"}, "color"),
        ("unknown campaign", lambda g: {"name": "P", "campaign_id": str(uuid.uuid4())}, "campaign_id"),
        ("campaign id format", lambda g: {"name": "P", "campaign_id": "summit"}, "campaign_id"),
        ("campaign already in asana", lambda g: {"name": "P", "campaign_id": g["linked"]}, "campaign_id"),
        ("idempotency key format", lambda g: {"name": "P", "idempotency_key": "no spaces allowed"}, "idempotency_key"),
    ],
    "create_task": [
        ("unknown project", lambda g: {"name": "T", "projects": [UNKNOWN_GID]}, "projects"),
        ("unknown section", lambda g: {"name": "T", "memberships": [{"project": g["board"], "section": UNKNOWN_GID}]},
         "memberships"),
        ("section of another project", lambda g: {"name": "T", "memberships": [
            {"project": g["board"], "section": g["backlog_section"]}]}, "memberships"),
        ("project given twice", lambda g: {"name": "T", "projects": [g["board"]],
                                           "memberships": [{"project": g["board"]}]}, "projects"),
        ("gid format in projects", lambda g: {"name": "T", "projects": ["board"]}, "projects"),
        ("gid format in memberships", lambda g: {"name": "T", "memberships": [{"project": "12a"}]}, "memberships"),
        ("unknown assignee", lambda g: {"name": "T", "assignee": UNKNOWN_GID}, "assignee"),
        ("unlinked MCC user", lambda g: {"name": "T", "assignee": "jordan.lee"}, "assignee"),
        ("dates out of order", lambda g: {"name": "T", "start_on": "2027-03-02", "due_on": "2027-03-01"}, "start_on"),
        ("oversize name", lambda g: {"name": LONG_NAME}, "name"),
        ("oversize notes", lambda g: {"name": "T", "notes": LONG_TEXT}, "notes"),
        ("unknown field", lambda g: {"name": "T", "followers": []}, "followers"),
        ("unknown nested field", lambda g: {"name": "T", "memberships": [{"project": g["board"], "position": 1}]},
         "memberships"),
        ("missing name", lambda g: {"projects": [g["board"]]}, "name"),
    ],
    "create_subtask": [
        ("unknown parent", lambda g: {"parent_gid": UNKNOWN_GID, "name": "S"}, "parent_gid"),
        ("parent gid format", lambda g: {"parent_gid": "-1", "name": "S"}, "parent_gid"),
        ("unknown assignee", lambda g: {"parent_gid": g["task"], "name": "S", "assignee": UNKNOWN_GID}, "assignee"),
        ("dates out of order", lambda g: {"parent_gid": g["task"], "name": "S", "start_on": "2027-03-02",
                                          "due_on": "2027-03-01"}, "start_on"),
        ("oversize name", lambda g: {"parent_gid": g["task"], "name": LONG_NAME}, "name"),
        ("projects are not for subtasks", lambda g: {"parent_gid": g["task"], "name": "S", "projects": []},
         "projects"),
    ],
    "update_task": [
        ("unknown task", lambda g: {"task_gid": UNKNOWN_GID, "name": "U"}, "task_gid"),
        ("task gid format", lambda g: {"task_gid": "1.5", "name": "U"}, "task_gid"),
        ("unknown assignee", lambda g: {"task_gid": g["task"], "assignee": UNKNOWN_GID}, "assignee"),
        ("dates out of order", lambda g: {"task_gid": g["task"], "start_on": "2027-03-02", "due_on": "2027-03-01"},
         "start_on"),
        ("start after the stored due", lambda g: {"task_gid": g["email"], "start_on": "2027-03-01"}, "start_on"),
        ("due before the stored start", lambda g: {"task_gid": g["email"], "due_on": "2027-01-01"}, "due_on"),
        ("oversize name", lambda g: {"task_gid": g["task"], "name": LONG_NAME}, "name"),
        ("oversize notes", lambda g: {"task_gid": g["task"], "notes": LONG_TEXT}, "notes"),
        ("null name", lambda g: {"task_gid": g["task"], "name": None}, "name"),
        ("unknown field", lambda g: {"task_gid": g["task"], "color": "red"}, "color"),
        ("memberships", lambda g: {"task_gid": g["task"], "memberships": [{"project": g["board"]}]}, "memberships"),
        ("projects", lambda g: {"task_gid": g["task"], "projects": [g["board"]]}, "projects"),
        ("parent", lambda g: {"task_gid": g["task"], "parent": g["email"]}, "parent"),
        ("workspace", lambda g: {"task_gid": g["task"], "workspace": g["workspace"]}, "workspace"),
        ("nothing to change", lambda g: {"task_gid": g["task"]}, "no fields"),
    ],
    "add_comment": [
        ("unknown task", lambda g: {"task_gid": UNKNOWN_GID, "text": "hi"}, "task_gid"),
        ("task gid format", lambda g: {"task_gid": "task-1", "text": "hi"}, "task_gid"),
        ("empty text", lambda g: {"task_gid": g["task"], "text": "   "}, "text"),
        ("oversize text", lambda g: {"task_gid": g["task"], "text": LONG_TEXT}, "text"),
        ("missing text", lambda g: {"task_gid": g["task"]}, "text"),
        ("unknown field", lambda g: {"task_gid": g["task"], "text": "hi", "html_text": "<b>hi</b>"}, "html_text"),
    ],
    "add_task_to_section": [
        ("unknown section", lambda g: {"section_gid": UNKNOWN_GID, "task_gid": g["task"]}, "section_gid"),
        ("unknown task", lambda g: {"section_gid": g["done"], "task_gid": UNKNOWN_GID}, "task_gid"),
        ("section gid format", lambda g: {"section_gid": "done", "task_gid": g["task"]}, "section_gid"),
        ("task gid format", lambda g: {"section_gid": g["done"], "task_gid": ""}, "task_gid"),
        ("before and after", lambda g: {"section_gid": g["doing"], "task_gid": g["task"], "insert_before": g["email"],
                                        "insert_after": g["email"]}, "insert_before"),
        ("anchor not in the section", lambda g: {"section_gid": g["done"], "task_gid": g["task"],
                                                 "insert_before": g["email"]}, "insert_before"),
        ("anchor gid format", lambda g: {"section_gid": g["doing"], "task_gid": g["task"], "insert_after": "x"},
         "insert_after"),
        ("unknown field", lambda g: {"section_gid": g["done"], "task_gid": g["task"], "project": g["board"]},
         "project"),
    ],
}  # fmt: skip


@pytest.fixture
async def w(engine, tmp_path) -> AsyncIterator[AsanaWorld]:  # type: ignore[no-untyped-def]
    world = make_world(engine, tmp_path)
    yield world
    await world.close()


def gids(w: AsanaWorld) -> dict[str, str]:
    seed = w.seeds[ACME]
    return {
        "workspace": seed.workspace_gid,
        "board": seed.projects["Acme Partner Board"],
        "doing": seed.sections["Acme Partner Board/Doing"],
        "done": seed.sections["Acme Partner Board/Done"],
        "backlog_section": seed.sections["Acme Backlog/Untitled section"],
        "task": seed.tasks["acme brief partners"],
        "email": seed.tasks["acme draft email"],
        "linked": w.campaigns[f"{ACME}:linked"],
    }


def test_every_write_tool_has_cases() -> None:
    assert set(CASES) == WRITES


@pytest.mark.parametrize("tool", sorted(CASES))
async def test_bad_input_is_a_tool_error_naming_the_argument_and_writes_nothing(w: AsanaWorld, tool: str) -> None:
    g = gids(w)
    before = (w.asana_rows(), w.spine_counts())
    for label, build, names in CASES[tool]:
        ok, err = await w.call("jordan.lee", tool, build(g))
        assert not ok, (label, err)
        assert names in err, (label, err)
        assert "[denied]" not in err and "[internal]" not in err, (label, err)
        assert (w.asana_rows(), w.spine_counts()) == before, label
    # The same world still accepts a valid call: the failures above were about the input, not the setup.
    assert (await w.call("jordan.lee", "get_task", {"task_gid": g["task"]}))[0]


async def test_creation_only_fields_on_update_point_to_add_task_to_section(w: AsanaWorld) -> None:
    g = gids(w)
    for field in ("memberships", "projects"):
        ok, err = await w.call("jordan.lee", "update_task", {"task_gid": g["task"], field: [g["board"]]})
        assert not ok and f"{field}:" in err and "add_task_to_section" in err and "unknown argument" not in err
