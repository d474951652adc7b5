"""Questions about comments and notes are answered by reading them (never a write): Workfront notes through
workfront__search on NOTE, an Asana task's notes through asana__get_task. Phrasings written 2026-12-07 before the
code; the planner runs through the real model machinery with the comments intent forced."""

from __future__ import annotations

from typing import Any

from agents.offline import HashingEncoder, OfflineModel
from agents.offline.transcript import PlanContext
from tests.agents.offline.requests import Conversation, campaign, campaign_list

SUMMIT = campaign("Customer Summit 2026", "event", 1, {"asana": "1201234567890123"})
Q1 = campaign("Q1 Cloud Platform Launch", "product_launch", 1, {"workfront": "6a1b" + "0" * 28})
CAMPAIGNS = campaign_list(Q1, SUMMIT)
WF_TASK = "7" * 32
WORK = {"work_items": [
    {"id": "9" * 8 + "-0000-4000-8000-" + "0" * 12, "campaign_id": SUMMIT["id"], "name": "Print badges",
     "status": "not_started", "source_system": "asana", "external_id": "1209999999999999"},
    {"id": "8" * 8 + "-0000-4000-8000-" + "0" * 12, "campaign_id": Q1["id"], "name": "Pricing page copy",
     "status": "in_progress", "source_system": "workfront", "external_id": WF_TASK},
], "count": 2, "next_offset": None}  # fmt: skip
NOTES = {"items": [
    {"ID": "a" * 32, "objCode": "NOTE", "noteText": "Legal wants the footnote moved.", "noteObjCode": "TASK",
     "objID": WF_TASK, "entryDate": "2026-11-30T09:00:00"},
    {"ID": "b" * 32, "objCode": "NOTE", "noteText": "Draft two is in the shared folder.", "noteObjCode": "TASK",
     "objID": WF_TASK, "entryDate": "2026-12-02T15:30:00"},
], "count": 2, "next_first": None}  # fmt: skip
ASANA_TASK = {"data": {"gid": "1209999999999999", "name": "Print badges", "notes": "Use the matte stock; 400 copies.",
                       "completed": False, "resource_type": "task"}}  # fmt: skip
WRITES = {"workfront__add_note", "asana__add_comment", "workfront__update_task", "asana__update_task"}


class _Forced(OfflineModel):
    def __init__(self) -> None:
        super().__init__(HashingEncoder())

    def _intent(self, text: str, agent: str, ctx: PlanContext) -> str:
        return "comments"


def _run(text: str, results: dict[str, Any]) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    model, conv = _Forced(), Conversation("production", text)
    calls: list[tuple[str, dict[str, Any]]] = []
    response = model.respond(conv.request())
    for _ in range(6):
        if not response.tool_uses:
            break
        calls += [(u.name, dict(u.input)) for u in response.tool_uses]
        conv.answer(response, results)
        response = model.respond(conv.request())
    return calls, response.text


def test_workfront_task_notes_are_read_newest_first() -> None:
    calls, reply = _run("what have people written on the 'Pricing page copy' task?",
                        {"spine__list_campaigns": CAMPAIGNS, "spine__list_work_items": WORK,
                         "workfront__search": NOTES})  # fmt: skip
    searches = [args for name, args in calls if name == "workfront__search"]
    assert searches and searches[0]["obj_code"] == "NOTE" and searches[0]["filters"]["objID"] == WF_TASK
    assert not WRITES & {name for name, _ in calls}
    assert reply.index("Draft two is in the shared folder.") < reply.index("Legal wants the footnote moved.")
    assert "Pricing page copy" in reply


def test_a_task_without_notes_says_so() -> None:
    calls, reply = _run("any notes on the pricing page copy task?",
                        {"spine__list_campaigns": CAMPAIGNS, "spine__list_work_items": WORK,
                         "workfront__search": {"items": [], "count": 0, "next_first": None}})  # fmt: skip
    assert "no notes" in reply.lower() and not WRITES & {name for name, _ in calls}


def test_an_asana_task_shows_its_notes() -> None:
    calls, reply = _run("read me the notes for 'Print badges'",
                        {"spine__list_campaigns": CAMPAIGNS, "spine__list_work_items": WORK,
                         "asana__get_task": ASANA_TASK})  # fmt: skip
    assert ("asana__get_task", {"task_gid": "1209999999999999"}) in calls
    assert "Use the matte stock; 400 copies." in reply and not WRITES & {name for name, _ in calls}


def test_a_campaign_named_without_a_task_reads_its_project_notes() -> None:
    calls, reply = _run("show the latest notes on the Q1 Cloud Platform Launch project",
                        {"spine__list_campaigns": CAMPAIGNS, "workfront__search": NOTES})  # fmt: skip
    searches = [args for name, args in calls if name == "workfront__search"]
    assert searches and searches[0]["filters"] == {"objID": "6a1b" + "0" * 28, "noteObjCode": "PROJ"}
    assert "Draft two is in the shared folder." in reply
