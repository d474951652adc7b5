"""Chat pages: the signed-in user's threads, a thread, sending a message, its streamed turn (SSE), approval status.

Every route is for the signed-in user only and sees only their own threads in their own tenant: another user's or
tenant's thread id answers 404 exactly like an unknown one. Posts pass the app's CSRF middleware.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from mcc.web.chat_service import ChatRefused, ChatService, ChatUser
from mcc.web.chat_stream import StreamItem, TurnStream
from mcc.web.chat_views import activity_item, approval_card, finished_turn, live_turn, thread_turns
from mcc.web.rendering import NavItem, is_htmx, render
from mcc.web.security import WebPrincipal, csrf_token, signed_in

router = APIRouter()
NAV = NavItem(10, "Chat", "/chat")


@asynccontextmanager
async def lifespan(web: FastAPI) -> AsyncIterator[None]:
    """The chat service runs while the server does. A served app (``mcc web`` sets ``state.chat_warm_up``) loads
    the model and opens the playbook store at start-up, in the background; test clients do not pay for that."""
    model = getattr(web.state, "chat_model", None)  # tests hand in a scripted model
    warm = bool(getattr(web.state, "chat_warm_up", False))
    service = await ChatService.start(web.state.mcc, model, warm_up=warm, warm_knowledge=warm and model is None)
    outer, web.state.chat = getattr(web.state, "chat", None), service
    try:
        yield
    finally:
        if web.state.chat is service:  # a nested lifespan (a second test client) restores the outer service
            web.state.chat = outer
        await service.aclose()


def chat_service(request: Request) -> ChatService:
    service = getattr(request.app.state, "chat", None)
    if service is None:
        raise ChatRefused(503, "the chat is starting or stopping; try again in a moment")
    return service


def chat_user(principal: WebPrincipal = Depends(signed_in)) -> ChatUser:
    return ChatUser(principal.user_id, principal.tenant_id, principal.groups)


def _refused(exc: ChatRefused) -> Response:
    return PlainTextResponse(exc.message, status_code=exc.status)


def _fragment(request: Request, template: str, context: dict[str, Any]) -> str:
    """A template rendered to a string (for SSE payloads and out-of-band swaps)."""
    env = request.app.state.templates.env
    base = {"csrf_token": csrf_token(request), "csrf_field": env.globals.get("csrf_field", "csrf_token")}
    return env.get_template(template).render({**base, **context})


@router.get("/chat")
async def threads_page(request: Request, user: ChatUser = Depends(chat_user)) -> Response:
    """The user's conversations and a box to start a new one."""
    try:
        service = chat_service(request)
        threads = await service.threads(user)
    except ChatRefused as exc:
        return _refused(exc)
    service.warm(user)  # their agent team opens while they type: the first message starts at once
    return render(request, "chat/list.html", {"title": "Chat", "threads": threads, "thread_id": None})


@router.post("/chat")
async def new_thread(request: Request, message: str = Form(""), user: ChatUser = Depends(chat_user)) -> Response:
    """Start a conversation with its first message; the thread page follows the answer as it streams."""
    try:
        stream = await chat_service(request).send(user, message)
    except ChatRefused as exc:
        return _refused(exc)
    target = f"/chat/{stream.thread_id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/chat/{thread_id}")
async def thread_page(request: Request, thread_id: str, user: ChatUser = Depends(chat_user)) -> Response:
    """One conversation: earlier turns, the one waiting on an approval, or the one being answered (live)."""
    try:
        service = chat_service(request)
        view = await service.thread(user, thread_id)
    except ChatRefused as exc:
        return render(request, "error.html", {"title": "Not found", "message": exc.message}, status_code=exc.status)
    service.warm(user)
    turns = thread_turns(view)
    live = live_turn(view.running) if view.running is not None else None
    if live is not None:
        for t in turns:
            t["last"] = False
    return render(request, "chat/thread.html",
                  {"title": "Conversation", "turns": turns, "live": live, "thread_id": thread_id})  # fmt: skip


@router.post("/chat/{thread_id}/messages")
async def send_message(
    request: Request, thread_id: str, message: str = Form(""), user: ChatUser = Depends(chat_user)
) -> Response:
    """Send a message in a thread: htmx gets the live turn to append, a plain form post is redirected back."""
    try:
        stream = await chat_service(request).send(user, message, thread_id)
    except ChatRefused as exc:
        return _refused(exc)
    if not is_htmx(request):
        return RedirectResponse(f"/chat/{thread_id}", status_code=303)
    return HTMLResponse(_fragment(request, "chat/_live_turn.html", {"turn": live_turn(stream)}))


@router.get("/chat/{thread_id}/turns/{turn_id}/events")
async def turn_events(request: Request, thread_id: str, turn_id: str, user: ChatUser = Depends(chat_user)) -> Response:
    """The turn's events as Server-Sent Events: activity, tokens, approvals, then the finished turn and done."""
    try:
        stream = chat_service(request).turn(user, turn_id)
    except ChatRefused as exc:
        return _refused(exc)
    if stream.thread_id != thread_id:
        return PlainTextResponse("no such turn", status_code=404)
    start = _resume_index(request.headers.get("last-event-id"), len(stream.items))
    render_final = lambda: _fragment(request, "chat/_turn.html", {"turn": finished_turn(stream)})  # noqa: E731
    return EventSourceResponse(_events(stream, start, render_final, request), ping=10)


def _resume_index(last_event_id: str | None, produced: int) -> int:
    """Where a reconnecting browser continues (after the last event it got); from the start otherwise."""
    if last_event_id is None or not last_event_id.isdigit():
        return 0
    return min(int(last_event_id) + 1, produced)


async def _events(
    stream: TurnStream, start: int, render_final: Callable[[], str], request: Request
) -> AsyncIterator[ServerSentEvent]:
    index = start
    async for item in stream.follow(start):
        for name, data in _payloads(item, stream, request):
            yield ServerSentEvent(data=data, event=name, id=str(index))
        if item.kind == "done":
            yield ServerSentEvent(data=render_final(), event="final", id=str(index))
            yield ServerSentEvent(data="", event="done", id=str(index))
        index += 1


def _payloads(item: StreamItem, stream: TurnStream, request: Request) -> list[tuple[str, str]]:
    """One stream item as (SSE event name, HTML fragment) pairs; none for items only the finished turn shows."""
    if item.kind == "token":
        return [("token", _fragment(request, "chat/_token.html", {"text": item.data.get("text", "")}))]
    out = []
    activity = activity_item(item.kind, item.data)
    if activity is not None:
        out.append(("activity", _fragment(request, "chat/_activity.html", {"item": activity})))
    if item.kind == "approval":
        card = approval_card({**item.data, "status": "pending"}, stream.thread_id)
        out.append(("approval", _fragment(request, "chat/_approval.html", {"approval": card})))
    elif item.kind == "error":
        item_html = _fragment(request, "chat/_activity.html", {"item": {"kind": "error", **item.data}})
        out.append(("activity", item_html))
    return out


@router.get("/chat/{thread_id}/approvals/{approval_id}")
async def approval_status(
    request: Request, thread_id: str, approval_id: str, user: ChatUser = Depends(chat_user)
) -> Response:
    """An approval card (polled while pending). Once resolved, the waiting conversation continues: its resumed
    turn is appended to the page (streamed), or the reply if it has already been resumed elsewhere."""
    try:
        service = chat_service(request)
        view = await service.thread(user, thread_id)
        record = await service.approval(user, approval_id)
    except ChatRefused as exc:
        return _refused(exc)
    card = _fragment(request, "chat/_approval.html", {"approval": approval_card(record, thread_id)})
    if record["status"] == "pending":
        return HTMLResponse(card)
    try:
        resumed = await service.resume_if_resolved(user, thread_id, approval_id)
    except ChatRefused as exc:
        return _refused(exc)
    if resumed is not None:
        turn = _fragment(request, "chat/_live_turn.html", {"turn": live_turn(resumed)})
    elif view.waiting is None and view.history:  # resumed already (e.g. by the approver's action): show the answer
        turn = "".join(_fragment(request, "chat/_turn.html", {"turn": t}) for t in thread_turns(view)[-1:])
    else:
        turn = ""
    return HTMLResponse(card + (f'<div hx-swap-oob="beforeend:#turns">{turn}</div>' if turn else ""))
