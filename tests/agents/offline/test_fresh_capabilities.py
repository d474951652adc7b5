"""Capabilities added for issue 15's open classes, on phrasings written 2026-12-07 before the code (frozen: add new
cases in another file): "don't ..., just tell me ..." clauses, comments left on tasks (never a status change),
who has a task, channel figures (fast: hashing encoder; the planners run through the real model machinery)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.offline import HashingEncoder, OfflineModel
from agents.offline.plans.changes import comment_text
from agents.offline.plans.production import _task_question
from agents.offline.router import Router
from agents.offline.transcript import PlanContext
from tests.agents.offline.requests import Conversation, campaign, campaign_list

SUMMIT = campaign("Customer Summit 2026", "event", 1, {"asana": "1201234567890123"})
Q1 = campaign("Q1 Cloud Platform Launch", "product_launch", 1, {"workfront": "6a1b" + "0" * 28})
CAMPAIGNS = campaign_list(Q1, SUMMIT)


def _work(name: str, system: str, ext: str, c: dict[str, Any], assignee: str | None = None) -> dict[str, Any]:
    return {"id": "9" * 8 + "-0000-4000-8000-" + "0" * 12, "campaign_id": c["id"], "name": name,
            "status": "not_started", "source_system": system, "external_id": ext, "assignee_id": assignee}  # fmt: skip


WORK = {"work_items": [_work("Print badges", "asana", "1209999999999999", SUMMIT),
                       _work("Pricing page copy", "workfront", "7" * 32, Q1, "leo.martins")],
        "count": 2, "next_offset": None}  # fmt: skip


class _Forced(OfflineModel):
    """The offline model with one intent forced, to run a planner through the real agent loop."""

    def __init__(self, intent: str) -> None:
        super().__init__(HashingEncoder())
        self.forced = intent

    def _intent(self, text: str, agent: str, ctx: PlanContext) -> str:
        return self.forced


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("don't create anything yet, just tell me which campaigns are tier 1", "tell me which campaigns are tier 1"),
        ("do not add the task — instead show me the summit's open tasks", "show me the summit's open tasks"),
        ("never mind the new campaign, but list the pending approvals", "list the pending approvals"),
    ],
)
def test_a_declined_clause_does_not_swallow_the_request_after_it(text: str, kept: str) -> None:
    parts = Router(HashingEncoder(), min_probability=0.0).split(text)
    assert parts[0].intent == "declined"
    assert [p.request for p in parts[1:]] == [kept] and parts[1].intent != "declined"


@pytest.mark.parametrize(
    "text",
    ["Create a campaign 'Lean' tier 3 launching March 3, but no budget", "can you just tell me the summit status"],
)
def test_but_and_just_split_only_before_a_new_request(text: str) -> None:
    assert Router(HashingEncoder(), min_probability=0.0).clauses(text) == [text]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("leave a comment on 'Print badges' saying the vendor needs the final list by Friday",
         "the vendor needs the final list by Friday"),
        ("comment 'looks good to me' on the 'Print badges' task", "looks good to me"),
        ("add a note to the pricing page copy task: legal approved the claims", "legal approved the claims"),
        ("post on the badges task that the printer is booked", "the printer is booked"),
    ],
)  # fmt: skip
def test_comment_text_is_the_dictated_words(text: str, said: str) -> None:
    assert comment_text(text)[0] == said


def test_no_comment_text_means_no_comment() -> None:
    assert comment_text("leave a comment on 'Print badges'")[0] is None


def test_a_comment_is_added_and_never_changes_the_status() -> None:
    model = _Forced("add_comment")
    conv = Conversation("production", "leave a comment on 'Print badges' saying the list is final")
    first = model.respond(conv.request())
    assert [u.name for u in first.tool_uses] == ["spine__list_work_items"] or [u.name for u in first.tool_uses] == [
        "spine__list_campaigns"
    ]
    for _ in range(4):
        results = {"spine__list_campaigns": CAMPAIGNS, "spine__list_work_items": WORK,
                   "asana__add_comment": {"data": {"gid": "1", "text": "the list is final"}}}  # fmt: skip
        conv.answer(first, results)
        first = model.respond(conv.request())
        if not first.tool_uses or first.tool_uses[0].name == "asana__add_comment":
            break
    assert [u.name for u in first.tool_uses] == ["asana__add_comment"]
    assert first.tool_uses[0].input == {"task_gid": "1209999999999999", "text": "the list is final"}


def test_a_comment_without_words_asks_instead_of_writing() -> None:
    response = _Forced("add_comment").respond(Conversation("production", "comment on 'Print badges'").request())
    assert not response.tool_uses and "What should the comment say" in response.text


@pytest.mark.parametrize(
    ("text", "about_a_task"),
    [
        ("who has the pricing page copy task?", True),
        ("who is on 'Print badges'", True),
        ("is the 'Print badges' task done yet", True),
        ("what's the status of the Q1 Cloud Platform Launch project", False),
        ("how is the summit going", False),
    ],
)
def test_questions_about_one_task(text: str, about_a_task: bool) -> None:
    assert _task_question(text) is about_a_task


def test_who_has_a_task_names_the_assignee() -> None:
    model = _Forced("project_status")
    conv = Conversation("production", "who has the pricing page copy task?")
    response = model.respond(conv.request())
    for _ in range(4):
        if not response.tool_uses:
            break
        conv.answer(response, {"spine__list_campaigns": CAMPAIGNS, "spine__list_work_items": WORK})
        response = model.respond(conv.request())
    assert not response.tool_uses
    assert "Pricing page copy" in response.text and "leo.martins" in response.text
