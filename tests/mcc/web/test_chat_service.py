"""The web chat engine on a real database and real guarded in-process MCP servers; the model is the scripted test
double of the external LLM. Turns stream as events, threads are each user's own, a waiting thread resumes once its
approval is resolved (by its user's page or by the approver's action), and turns of one thread never overlap."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mcc.settings import Settings
from mcc.web.chat_service import ChatRefused, ChatService, ChatUser
from mcc.web.chat_stream import TurnStream
from mcc.wiring import App
from spine.approvals import ApprovalStore
from spine.demo import load_demo
from tests.agents.graph.support import ScriptedModel, call, campaign_args, route, say

MAYA = ChatUser("maya.chen", "acme", frozenset({"campaign-managers"}))
OMAR = ChatUser("omar.farouk", "acme", frozenset({"campaign-managers"}))
HANK = ChatUser("hank.scorpio", "globex", frozenset({"marketing-leadership", "vp"}))


@pytest.fixture
def chat_app(engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path) -> App:
    load_demo(session_factory, today=dt.date(2026, 11, 2))
    return App(settings=Settings(home=tmp_path), engine=engine, sessions=session_factory)


def run_with(app: App, model: ScriptedModel, body: Callable[[ChatService], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        service = await ChatService.start(app, model)
        try:
            return await body(service)
        finally:
            await service.aclose()

    return asyncio.run(main())


async def finished(stream: TurnStream) -> list[tuple[str, dict[str, Any]]]:
    return [(item.kind, item.data) async for item in stream.follow()]


def test_a_turn_streams_activity_tokens_and_reply_and_the_thread_is_listed_for_its_user_only(chat_app: App) -> None:
    model = ScriptedModel({
        "supervisor": [route(("analytics", "how many campaigns?"))],
        "analytics": [call("spine__list_campaigns", limit=100), say("There are 12 campaigns.")],
    })  # fmt: skip

    async def body(service: ChatService) -> None:
        stream = await service.send(MAYA, "how many campaigns?")
        events = await finished(stream)
        kinds = [k for k, _ in events]
        assert kinds[0] == "route" and kinds[-2:] == ["reply", "done"]
        tool = next(d for k, d in events if k == "tool")
        assert (tool["server"], tool["tool"], tool["decision"], tool["result_status"]) == (
            "spine", "list_campaigns", "allow", "ok")  # fmt: skip
        assert "".join(d["text"] for k, d in events if k == "token").strip() == "There are 12 campaigns."
        assert kinds.index("token") < kinds.index("reply")  # streamed before the turn ended
        listed = await service.threads(MAYA)
        assert [(t.thread_id, t.title) for t in listed] == [(stream.thread_id, "how many campaigns?")]
        assert await service.threads(OMAR) == [] and await service.threads(HANK) == []
        view = await service.thread(MAYA, stream.thread_id)
        assert view.history[-1]["content"] == "There are 12 campaigns." and view.waiting is None
        for other in (OMAR, HANK):  # another user's or tenant's thread is reported as missing
            with pytest.raises(ChatRefused) as refused:
                await service.thread(other, stream.thread_id)
            assert refused.value.status == 404
            with pytest.raises(ChatRefused):
                service.turn(other, stream.turn_id)
            with pytest.raises(ChatRefused) as refused:
                await service.send(other, "and now?", stream.thread_id)
            assert refused.value.status == 404
        assert service.turn(MAYA, stream.turn_id) is stream

    run_with(chat_app, model, body)


def test_a_waiting_thread_refuses_messages_and_resumes_once_its_approval_is_resolved(chat_app: App) -> None:
    model = ScriptedModel({
        "supervisor": [route(("production", "create Web Launch with 25k"))],
        "production": [call("spine__create_campaign", **campaign_args("Web Launch", "25000")),
                       say("Web Launch is created.")],
    })  # fmt: skip

    async def body(service: ChatService) -> None:
        stream = await service.send(MAYA, "create Web Launch with 25k")
        events = await finished(stream)
        approval = next(d for k, d in events if k == "approval")
        tool = next(d for k, d in events if k == "tool")
        assert tool["decision"] == "require_approval" and approval["required_group"] == "marketing-leadership"
        reply = next(d for k, d in events if k == "reply")
        assert reply["waiting"] and reply["approvals"][0]["status"] == "pending"
        approval_id = approval["approval_id"]
        with pytest.raises(ChatRefused) as refused:
            await service.send(MAYA, "something else", stream.thread_id)
        assert refused.value.status == 409
        # still pending: the status card says so and nothing resumes
        assert await service.resume_if_resolved(MAYA, stream.thread_id, approval_id) is None
        assert (await service.approval(MAYA, approval_id))["status"] == "pending"
        with pytest.raises(ChatRefused):
            await service.approval(HANK, approval_id)  # another tenant's approval is not found
        ApprovalStore(chat_app.sessions).resolve("acme", approval_id, "dana.reyes", ["marketing-leadership"], "approve")
        resumed = await service.resume_if_resolved(MAYA, stream.thread_id, approval_id)
        assert resumed is not None and resumed.thread_id == stream.thread_id
        again = await service.resume_if_resolved(MAYA, stream.thread_id, approval_id)
        assert again is None or again is resumed  # one resume per approval, never a second run
        events = await finished(resumed)
        assert next(d for k, d in events if k == "reply")["reply"] == "Web Launch is created."
        created = [d for k, d in events if k == "tool"]
        assert [(c["tool"], c["result_status"]) for c in created] == [("create_campaign", "ok")]
        view = await service.thread(MAYA, stream.thread_id)
        assert view.waiting is None and view.history[-1]["content"] == "Web Launch is created."
        assert await service.resume_if_resolved(MAYA, stream.thread_id, approval_id) is None

    run_with(chat_app, model, body)
