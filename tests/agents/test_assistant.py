"""The Assistant runtime API: persistence across instances, resuming after approvals, thread ownership."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from agents.assistant import (
    INCOMPLETE_REPLY,
    ApprovalOutcome,
    Assistant,
    AssistantError,
    ThreadNotFound,
    ThreadOwnedByOther,
    TurnResult,
)
from agents.checkpoints import CheckpointURLError, describe, open_checkpointer, open_store
from agents.models.base import ModelUnavailable
from tests.agents.graph.support import (
    TODAY,
    ScriptedModel,
    World,
    call,
    campaign_args,
    make_world,
    route,
    say,
)


@pytest.fixture
def world(engine: Any) -> World:
    return make_world(engine)


BIG = campaign_args("Restart Launch", "40000")


def _model() -> ScriptedModel:
    return ScriptedModel({
        "supervisor": [route(("production", "create Restart Launch with 40k"))],
        "production": [call("spine__create_campaign", **BIG), say("Restart Launch is created.")],
    })  # fmt: skip


def _assistant(
    world: World, model: ScriptedModel, saver, user: str = "maya.chen", store: BaseStore | None = None
) -> Assistant:  # type: ignore[no-untyped-def]
    return Assistant(model, world.servers(user), saver, world.user(user), store=store or InMemoryStore(), today=TODAY)


async def test_thread_survives_a_restart_and_resumes_after_an_approval_elsewhere(world: World, db_url: str) -> None:
    model = _model()
    async with (
        open_checkpointer(db_url) as saver,
        open_store(db_url) as store,
        _assistant(world, model, saver, store=store) as first,
    ):
        turn = await first.send("create Restart Launch with 40k")
    assert turn.waiting and turn.reply.count(turn.approvals[0].approval_id) == 1
    approval_id = turn.approvals[0].approval_id

    await world.resolve(approval_id, "approve", note="ok for Q1")  # another user, another client

    # A new process would build everything again: new checkpointer and store connections, new clients, new Assistant.
    async with (
        open_checkpointer(db_url) as saver,
        open_store(db_url) as store,
        _assistant(world, model, saver, store=store) as second,
    ):
        resumed = await second.resume_waiting(approval_id)
        assert resumed is not None and not resumed.waiting
        assert resumed.thread_id == turn.thread_id and resumed.reply == "Restart Launch is created."
        again = await second.resume_waiting(approval_id)  # nothing waits any more
        assert again is None
        status = await second.status(turn.thread_id)
    assert status.reply == "Restart Launch is created." and status.route == ["production"]
    assert world.executed("create_campaign") == 1
    assert len(await world.campaigns_named("Restart Launch")) == 1


async def test_the_store_keeps_each_tenants_approval_index_across_connections(db_url: str) -> None:
    """The store opens beside the checkpoints (SQLite file or PostgreSQL): what one connection put, the next reads."""
    async with open_store(db_url) as store:
        await store.aput(("approvals", "acme"), "approval-1", {"thread_id": "t-1", "user_id": "maya.chen"})
    async with open_store(db_url) as store:
        item = await store.aget(("approvals", "acme"), "approval-1")
        assert item is not None and item.value == {"thread_id": "t-1", "user_id": "maya.chen"}
        assert await store.aget(("approvals", "globex"), "approval-1") is None


async def test_a_waiting_thread_is_indexed_by_its_approval_in_the_tenants_namespace(world: World) -> None:
    store = InMemoryStore()
    async with open_checkpointer() as saver, _assistant(world, _model(), saver, store=store) as maya:
        turn = await maya.send("create Restart Launch with 40k")
        approval_id = turn.approvals[0].approval_id
        item = await store.aget(("approvals", world.user("maya.chen").tenant_id), approval_id)
        assert item is not None and item.value == {"thread_id": turn.thread_id, "user_id": "maya.chen"}
        await world.resolve(approval_id, "reject", note="not now")
        done = await maya.resume_waiting(approval_id)
        assert done is not None and not done.waiting
        assert await maya.resume_waiting(approval_id) is None  # the thread no longer waits: its entry is dropped
        assert await store.aget(("approvals", world.user("maya.chen").tenant_id), approval_id) is None


async def test_resume_with_an_explicit_outcome_and_wrong_ids(world: World) -> None:
    model = _model()
    model.script["supervisor"].append(say("It is still waiting for marketing-leadership."))
    async with open_checkpointer() as saver, _assistant(world, model, saver) as assistant:
        turn = await assistant.send("create Restart Launch with 40k")
        approval_id = turn.approvals[0].approval_id
        meanwhile = await assistant.send("something else", turn.thread_id)  # answered; the call keeps waiting
        assert meanwhile.waiting and meanwhile.reply.startswith("It is still waiting for marketing-leadership.")
        assert (
            f"Still waiting: spine.create_campaign needs approval by a member of marketing-leadership (approval "
            f"{approval_id}, pending, expires " in meanwhile.reply
        )  # what still waits, said by the graph
        assert meanwhile.tool_calls == [] and world.executed("create_campaign") == 0
        asked = model.requests_for("supervisor")[-1]  # any model learns of the wait: from the history and metadata
        assert approval_id in str(asked.messages[-2].content) and asked.messages[-1].content == "something else"
        assert [w["approval_id"] for w in asked.metadata["conversation"]["waiting"]] == [approval_id]
        with pytest.raises(AssistantError, match="waits on approval"):
            await assistant.resume(turn.thread_id, ApprovalOutcome(approval_id="0" * 36, status="approved"))
        approved = await world.resolve(approval_id, "approve")
        done = await assistant.resume(turn.thread_id, approved)  # the spine's approval record as the outcome
        assert not done.waiting and done.reply == "Restart Launch is created."
        with pytest.raises(AssistantError, match="not waiting"):
            await assistant.resume(turn.thread_id, approved)
        with pytest.raises(ThreadNotFound):
            await assistant.status("no-such-thread")
    assert world.executed("create_campaign") == 1


async def test_threads_belong_to_their_user(world: World, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'checkpoints.db'}"
    async with open_checkpointer(url) as saver, open_store(url) as store:
        async with _assistant(world, _model(), saver, store=store) as maya:
            turn = await maya.send("create Restart Launch with 40k")
        async with _assistant(world, ScriptedModel({}), saver, user="dana.reyes", store=store) as dana:
            with pytest.raises(ThreadOwnedByOther):
                await dana.status(turn.thread_id)
            with pytest.raises(ThreadOwnedByOther):
                await dana.send("hi", turn.thread_id)
            with pytest.raises(ThreadOwnedByOther, match=r"maya\.chen"):
                await dana.resume_waiting(turn.approvals[0].approval_id)


async def test_a_follow_up_turn_sees_the_history(world: World) -> None:
    model = ScriptedModel({
        "supervisor": [route(("analytics", "spend?")), route(("analytics", "spend last week?"))],
        "analytics": [say("USD 10."), say("USD 3.")],
    })  # fmt: skip
    async with open_checkpointer() as saver, _assistant(world, model, saver) as assistant:
        first = await assistant.send("spend?")
        second = await assistant.send("and last week?", first.thread_id)
    assert second.reply == "USD 3." and second.route == ["analytics"] and second.tool_calls == []
    history = model.requests_for("supervisor")[1].messages
    assert [(m.role, m.content) for m in history] == [
        ("user", "spend?"),
        ("assistant", "USD 10."),
        ("user", "and last week?"),
    ]


def test_turn_result_keys_are_the_documented_ones() -> None:
    keys = set(TurnResult(thread_id="t", reply="r").model_dump(mode="json"))
    assert keys == {"thread_id", "reply", "route", "tool_calls", "approvals", "waiting", "usage"}


def test_checkpoint_urls() -> None:
    assert describe(":memory:") == ("memory", ":memory:")
    assert describe("sqlite:////abs/c.db") == ("sqlite", "/abs/c.db")
    assert describe("sqlite:///rel/c.db") == ("sqlite", "rel/c.db")
    assert describe("/plain/path.db") == ("sqlite", "/plain/path.db")
    assert describe("postgresql+psycopg://u@h:5432/db?options=-csearch_path%3Dx") == (
        "postgres", "postgresql://u@h:5432/db?options=-csearch_path%3Dx"
    )  # fmt: skip
    with pytest.raises(CheckpointURLError, match="Fix"):
        describe("mysql://u@h/db")


async def test_a_turn_that_failed_midway_says_so_and_the_next_message_starts_clean(world: World) -> None:
    def down(_request):  # type: ignore[no-untyped-def]
        raise ModelUnavailable("model unreachable")

    model = ScriptedModel({
        "supervisor": [route(("analytics", "first")), route(("analytics", "second"))],
        "analytics": [call("spine__list_campaigns", limit=1), down, say("Second answer.")],
    })  # fmt: skip
    async with open_checkpointer() as saver, _assistant(world, model, saver) as assistant:
        with pytest.raises(ModelUnavailable):
            await assistant.send("first", "t-fail")
        status = await assistant.status("t-fail")
        assert status.reply == INCOMPLETE_REPLY and not status.waiting
        again = await assistant.send("second", "t-fail")
    assert again.reply == "Second answer." and again.tool_calls == [] and again.route == ["analytics"]
    assert model.requests_for("analytics")[-1].messages[0].content == "second"
