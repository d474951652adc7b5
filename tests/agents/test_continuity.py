"""Conversation state and continuity through the real Assistant, the real OfflineModel (hashing encoder) and the
real spine, Workfront and Asana servers with the real guard:

- a clarifying question or a proposal keeps what it is about in the thread's state, not in the reply text;
- a message to a thread that waits on an approval is answered (status questions get the approval's status, any
  other request is handled), while the waiting call still runs exactly once when approved, or is reported when
  rejected;
- a follow-up that refers back ("try again with ...", "it") after a rejection or an approval resolves to the
  campaign the thread dealt with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore

from agents.assistant import Assistant, TurnResult, UserInfo
from agents.checkpoints import open_checkpointer, open_store
from agents.offline import HashingEncoder, OfflineModel
from spine.demo import DEMO_TENANT
from spine.repositories import open_store as open_spine_store
from tests.agents.offline.world import GROUPS, TODAY, World, open_world

WRITES = {"create_campaign", "update_campaign", "create_project", "create_task", "update_task", "update_status",
          "assign_resource", "add_note", "add_comment"}  # fmt: skip


@pytest.fixture(scope="module")
def model() -> OfflineModel:
    return OfflineModel(HashingEncoder())


@pytest.fixture
async def world(session_factory, tmp_path: Path) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    w = await open_world(session_factory, tmp_path)
    try:
        yield w
    finally:
        await w.close()


def _assistant(world: World, model: OfflineModel, saver: Any, store: Any = None, user: str = "maya.chen") -> Assistant:
    servers = {name: world.server(name, user) for name in ("spine", "workfront", "asana")}
    info = UserInfo(user_id=user, tenant_id=DEMO_TENANT, groups=sorted(GROUPS[user]))
    return Assistant(model, servers, saver, info, store=store or InMemoryStore(), today=TODAY)


def _tools(turn: TurnResult) -> list[str]:
    return [c.tool for c in turn.tool_calls]


def _writes(turn: TurnResult) -> list[str]:
    return [c.tool for c in turn.tool_calls if c.tool in WRITES and c.result_status == "ok"]


def _campaigns(world: World, name: str) -> list[Any]:
    with open_spine_store(world.sessions, DEMO_TENANT) as store:
        return [c for c in store.campaigns.list(limit=1000) if c.name == name]


def _executed(world: World, tool: str) -> int:
    return sum(1 for r in world.audit.tail(DEMO_TENANT, limit=2000) if r.tool == tool and r.decision == "executed")


async def _resolve(
    world: World, approval_id: str, decision: str, note: str | None = None, by: str = "dana.reyes"
) -> None:
    args = {"approval_id": approval_id, "decision": decision} | ({"note": note} if note else {})
    ok, _, err = await world.call(by, "spine__resolve_approval", args)
    assert ok, err


# --- item 1: what a clarification refers to lives in the state, not in the reply -----------------------------------


async def test_a_clarifying_question_does_not_echo_the_request_and_a_short_answer_completes_it(
    world: World, model: OfflineModel
) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        asked = await maya.send("please add a task called 'Order lanyards'")
        assert "Which campaign" in asked.reply and not _writes(asked)
        assert "Re:" not in asked.reply and "please add a task" not in asked.reply  # no echo of the user's words
        done = await maya.send("Q1 Cloud Platform Launch", asked.thread_id)
        if "Go ahead?" in done.reply:  # a proposal is answered the same way, from the state
            assert "Re:" not in done.reply
            done = await maya.send("yes please", asked.thread_id)
    # the short answer completed the request: the task call was made for the campaign it names (this test world's
    # Workfront sandbox does not hold the demo campaigns' projects, so the call itself answers not_found)
    made = [c for c in done.tool_calls if c.tool == "create_task"]
    assert made and made[0].arguments["name"] == "Order lanyards", done.tool_calls
    assert "Order lanyards" in done.reply and "Q1 Cloud Platform Launch" in done.reply


async def test_the_pending_question_is_kept_in_the_checkpointed_state(world: World, model: OfflineModel) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        asked = await maya.send("put a task 'Book photographer' on the list")
        state = (await maya._graph.aget_state({"configurable": {"thread_id": asked.thread_id}})).values
        assert [a["request"] for a in state["awaiting"]] == ["put a task 'Book photographer' on the list"]
        answered = await maya.send("Customer Summit 2026", asked.thread_id)
        state = (await maya._graph.aget_state({"configurable": {"thread_id": asked.thread_id}})).values
    assert "Book photographer" in answered.reply
    assert state["awaiting"] == [] or all("Book photographer" in a["request"] for a in state["awaiting"])


async def test_an_unrelated_new_request_after_a_question_is_not_glued_to_it(world: World, model: OfflineModel) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        asked = await maya.send("add a task named 'Ship swag boxes'")
        other = await maya.send("How is the Brand Awareness Q2 campaign performing?", asked.thread_id)
    assert "performance_summary" in _tools(other) and not _writes(other)


# --- item 2: a message to a waiting thread is answered ------------------------------------------------------------


async def test_status_question_and_other_request_while_waiting_then_the_call_runs_once(
    world: World, model: OfflineModel, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'chk.db'}"
    async with open_checkpointer(url) as saver, open_store(url) as store, _assistant(world, model, saver, store) as m:
        first = await m.send(
            "Create an event campaign 'Lantern Night' tier 3 with a $30k budget from April 8 to April 9"
        )
        assert first.waiting
        approval_id = first.approvals[0].approval_id

        news = await m.send("any news on that one?", first.thread_id)
        assert news.waiting and news.thread_id == first.thread_id
        assert approval_id in news.reply and "marketing-leadership" in news.reply
        assert "pending" in news.reply.lower() and "expires" in news.reply.lower()
        assert not _writes(news) and "This needs an approval" not in news.reply

        other = await m.send("how are the Developer Webinar Series numbers looking?", first.thread_id)
        assert other.waiting and "performance_summary" in _tools(other) and not _writes(other)
        assert "Developer Webinar Series" in other.reply
        assert _campaigns(world, "Lantern Night") == []

    await _resolve(world, approval_id, "approve")
    async with open_checkpointer(url) as saver, open_store(url) as store, _assistant(world, model, saver, store) as m:
        done = await m.resume_waiting(approval_id)
        assert done is not None and not done.waiting and done.thread_id == first.thread_id
        assert "Lantern Night" in done.reply and "Asana project" in done.reply
        again = await m.resume_waiting(approval_id)
        after = await m.send("is it approved yet?", first.thread_id)
    assert again is None
    assert len(_campaigns(world, "Lantern Night")) == 1 and _executed(world, "create_campaign") == 1
    assert not after.waiting and not _writes(after) and "approved" in after.reply.lower()


async def test_a_rejection_after_a_side_question_is_reported_and_nothing_runs(
    world: World, model: OfflineModel
) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        first = await maya.send("Create a standard campaign 'Quarry Days' tier 1 with a $45k budget launching May 4")
        approval_id = first.approvals[0].approval_id
        side = await maya.send("still waiting on sign-off?", first.thread_id)
        assert side.waiting and approval_id in side.reply
        await _resolve(world, approval_id, "reject", note="over the quarter's cap")
        done = await maya.status(first.thread_id)
    assert not done.waiting and "rejected" in done.reply and "over the quarter's cap" in done.reply
    assert done.approvals[0].status == "rejected" and _campaigns(world, "Quarry Days") == []


async def test_a_second_approval_while_one_waits_keeps_both_and_each_runs_once(
    world: World, model: OfflineModel
) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        first = await maya.send("Create a standard campaign 'Tide Pool' tier 2 with a $35k budget launching June 1")
        second = await maya.send(
            "Create a standard campaign 'Salt Flats' tier 2 with a $28k budget launching June 8", first.thread_id
        )
        assert first.waiting and second.waiting
        a1, a2 = first.approvals[0].approval_id, second.approvals[0].approval_id
        assert a1 != a2 and a2 in second.reply
        await _resolve(world, a1, "approve")  # the older one first: it waits under the newer one
        mid = await maya.resume_waiting(a1)
        assert mid is not None and mid.waiting
        await _resolve(world, a2, "approve")
        await maya.resume_waiting(a2)
        end = await maya.status(first.thread_id)
    assert not end.waiting
    assert len(_campaigns(world, "Tide Pool")) == 1 and len(_campaigns(world, "Salt Flats")) == 1
    assert _executed(world, "create_campaign") == 2


# --- item 3: follow-ups that refer back -----------------------------------------------------------------------------


async def test_try_again_after_a_rejected_budget_change_uses_the_same_campaign(
    world: World, model: OfflineModel
) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        first = await maya.send("Raise the budget of Developer Webinar Series to $95k")
        assert first.waiting, first.reply
        await _resolve(world, first.approvals[0].approval_id, "reject", note="too much for webinars")
        rejected = await maya.status(first.thread_id)
        assert "rejected" in rejected.reply
        retry = await maya.send("ok, try again with 8k", first.thread_id)
        if "Go ahead?" in retry.reply:
            retry = await maya.send("yes", first.thread_id)
    assert "Which campaign" not in retry.reply
    changed = [c for c in retry.tool_calls if c.tool == "update_campaign"]
    assert changed and changed[-1].arguments["changes"]["budget_planned"]["amount"] in ("8000", "8000.00", 8000)
    assert "Developer Webinar Series" in retry.reply


async def test_it_after_an_approved_change_means_that_campaign(world: World, model: OfflineModel) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        first = await maya.send("Raise the budget of Healthcare Vertical ABM to $120k")
        assert first.waiting, first.reply
        await _resolve(world, first.approvals[0].approval_id, "approve", by="victor.hale")  # a vp-sized change
        await maya.status(first.thread_id)
        follow = await maya.send("and how is it performing?", first.thread_id)
    assert "performance_summary" in _tools(follow) and "Healthcare Vertical ABM" in follow.reply
    assert "Which campaign" not in follow.reply


async def test_the_newer_of_two_waiting_approvals_resolved_first_runs_first(world: World, model: OfflineModel) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        first = await maya.send("Create a standard campaign 'Reed Bank' tier 2 with a $33k budget launching June 15")
        second = await maya.send(
            "Create a standard campaign 'Kelp Row' tier 2 with a $26k budget launching June 22", first.thread_id
        )
        a1, a2 = first.approvals[0].approval_id, second.approvals[0].approval_id
        await _resolve(world, a2, "approve")
        newer = await maya.resume_waiting(a2)
        assert newer is not None and newer.waiting  # the older call still waits
        assert len(_campaigns(world, "Kelp Row")) == 1 and _campaigns(world, "Reed Bank") == []
        await _resolve(world, a1, "reject", note="one launch that week is enough")
        older = await maya.resume_waiting(a1)
    assert older is not None and not older.waiting and "one launch that week is enough" in older.reply
    assert _campaigns(world, "Reed Bank") == [] and _executed(world, "create_campaign") == 1


async def test_a_follow_up_naming_the_campaign_after_a_rejection_changes_that_campaign(
    world: World, model: OfflineModel
) -> None:
    async with open_checkpointer() as saver, _assistant(world, model, saver) as maya:
        first = await maya.send("bump the Brand Awareness Q2 budget up to $70k")
        assert first.waiting, first.reply
        await _resolve(world, first.approvals[0].approval_id, "reject", note="hold it flat", by="victor.hale")
        assert "rejected" in (await maya.status(first.thread_id)).reply
        again = await maya.send("fine, set the Brand Awareness Q2 budget to 9k instead", first.thread_id)
        if "Go ahead?" in again.reply:
            again = await maya.send("yes", first.thread_id)
    assert "Which campaign" not in again.reply
    changed = [c for c in again.tool_calls if c.tool == "update_campaign"]
    assert changed and changed[-1].arguments["changes"]["budget_planned"]["amount"] in ("9000", "9000.00", 9000)
