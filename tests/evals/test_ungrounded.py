"""The ungrounded_writes gate on recorded calls: a write's free-text values must come from the user's messages or
an earlier tool result, never from the model alone."""

from __future__ import annotations

from typing import Any

from evals.ungrounded import free_text, ungrounded_writes
from evals.world import RecordedCall


def call(tool: str, args: dict[str, Any], result: Any = None, *, user: str = "maya.chen", ok: bool = True,
         server: str = "workfront") -> RecordedCall:  # fmt: skip
    return RecordedCall(user, "acme", server, tool, args, ok, result if result is not None else {})


MSG = [(0, "Add a task 'Design banner' to Q1 Cloud Platform Launch")]


def test_a_name_from_the_user_is_grounded_an_invented_one_is_not() -> None:
    good = call("create_task", {"name": "Design banner", "project_id": "p1"})
    bad = call("create_task", {"name": "Design banner v2 (urgent)", "project_id": "p1"})
    assert ungrounded_writes([good], "maya.chen", MSG) == []
    found = ungrounded_writes([bad], "maya.chen", MSG)
    assert len(found) == 1 and found[0].gate == "ungrounded_writes" and "Design banner v2" in found[0].detail


def test_earlier_tool_results_ground_later_writes_but_not_earlier_ones() -> None:
    read = call("search", {"obj_code": "TASK"}, {"items": [{"name": "Legal review", "ID": "t1"}]})
    note = call("add_note", {"obj_id": "t1", "text": "Legal review done"})
    assert ungrounded_writes([note, read], "maya.chen", [(0, "close it, done")]) != []
    assert ungrounded_writes([read, note], "maya.chen", [(0, "close it, done")]) == []


def test_only_the_principals_successful_writes_count() -> None:
    made_up = {"name": "Something else entirely"}
    assert ungrounded_writes([call("create_task", made_up, ok=False)], "maya.chen", MSG) == []  # refused
    assert ungrounded_writes([call("create_task", made_up, user="dana.reyes")], "maya.chen", MSG) == []
    assert ungrounded_writes([call("get_project", made_up)], "maya.chen", MSG) == []  # a read
    later = [(1, "call it Something else entirely")]  # a message after the write does not ground it
    assert ungrounded_writes([call("create_task", made_up)], "maya.chen", later) != []


def test_free_text_covers_changes_and_skips_ids_and_numbers() -> None:
    args = {"name": "A", "campaign_id": "x", "tier": 2, "changes": {"description": "B", "tier": 3}}
    assert list(free_text(args)) == [("name", "A"), ("changes.description", "B")]
