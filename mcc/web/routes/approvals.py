"""Approvals inbox: what the signed-in approver may resolve (own groups and delegations), one approval's page with
approve / reject / approve-with-edits, delegation, and the live status of an approval (JSON and SSE).

Every refusal is the server's: the spine refuses self-approval, wrong-group and other-tenant attempts whatever the
form says (403, or 404 for another tenant's id, exactly like an unknown id); the pages only leave out what would be
refused. After a decision the requester's waiting conversation resumes on its own: through the chat service when
this app runs one, else the path `mcc approvals approve` takes, in the background (never blocking the loop).
A periodic task sweeps approvals (notify, escalate, expire) while the server runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from mcc import approvals_service as svc
from mcc.web.rendering import NavItem, render
from mcc.web.security import Forbidden, WebPrincipal, mcc_app, signed_in
from mcc.wiring import App
from spine.approval_delegations import DelegationError
from spine.approval_edits import ApprovalEditRefused, summary
from spine.approval_errors import (
    ApprovalConflict,
    ApprovalError,
    ApprovalExpired,
    ApprovalNotPending,
    ApproverNotInGroup,
    SelfApprovalForbidden,
)
from spine.models.governance import Approval

router = APIRouter()
NAV = NavItem(20, "Approvals", "/approvals")
log = logging.getLogger("mcc.web.approvals")
APPROVAL_ID = r"^[0-9a-f-]{36}$"
FINAL = ("approved", "rejected", "consumed", "expired")
_REFUSED = {SelfApprovalForbidden: 403, ApproverNotInGroup: 403, ApprovalNotPending: 409, ApprovalExpired: 409,
            ApprovalConflict: 409, ApprovalEditRefused: 400, DelegationError: 400}  # fmt: skip


@asynccontextmanager
async def lifespan(web: FastAPI) -> AsyncIterator[None]:
    """Sweep approvals every ``approvals_sweep_seconds`` while the server runs (in a worker thread)."""
    task = asyncio.create_task(_sweep_forever(web, web.state.mcc), name="approvals-sweep")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _sweep_forever(web: FastAPI, app: App) -> None:
    while True:
        try:
            report, delivery = await asyncio.to_thread(svc.sweep, app)
            if report.queued or (delivery and (delivery.sent or delivery.failed)):
                log.info("approvals sweep: %s; delivery: %s", vars(report), vars(delivery) if delivery else None)
            chat = getattr(web.state, "chat", None)
            for tenant_id, approval_id in report.told if chat is not None else []:
                # The waiting conversation learns of the expiry now (it tells the requester the call did not run).
                await chat.resume_after_decision(tenant_id, approval_id)
        except Exception:  # a failed sweep is retried next period; the server keeps serving
            log.exception("approvals sweep failed")
        await asyncio.sleep(app.settings.approvals_sweep_seconds)


def approver(request: Request, principal: WebPrincipal = Depends(signed_in)) -> WebPrincipal:
    """Route dependency: a signed-in approver (leadership, VP, or someone holding a delegation), else 403."""
    if not svc.has_authority(mcc_app(request), principal):  # type: ignore[arg-type]
        raise Forbidden("the approvals inbox is for marketing-leadership and vp, or their delegates")
    return principal


def _load_visible(app: App, principal: WebPrincipal, approval_id: str) -> Approval:
    """The approval when the principal is its requester or may resolve it; another tenant's: not found (404)."""
    a = svc.desk(app).get(principal.tenant_id, approval_id)
    if not svc.visible(app, principal, a):  # type: ignore[arg-type]
        raise Forbidden(f"approval {approval_id} is for {a.required_group}, and you did not request it")
    return a


async def _thread_of(request: Request, tenant_id: str, approval_id: str) -> str | None:
    """The conversation waiting on the approval (the chat service's index), when this app runs the chat."""
    chat = getattr(request.app.state, "chat", None)
    store = getattr(chat, "store", None)
    if store is None:
        return None
    from agents.assistant import WAITING_NAMESPACE

    try:
        item = await store.aget((WAITING_NAMESPACE, tenant_id), approval_id)
    except Exception:  # the link is a convenience: a store hiccup must not break the inbox
        return None
    return str(item.value.get("thread_id")) if item is not None else None


@router.get("/approvals")
async def inbox(request: Request, principal: WebPrincipal = Depends(approver)) -> Response:
    app = mcc_app(request)
    items = await asyncio.to_thread(svc.inbox, app, principal)
    delegations = await asyncio.to_thread(svc.desk(app).delegations.list, principal.tenant_id, principal.user_id)
    threads = {i.id: await _thread_of(request, principal.tenant_id, i.id) for i in items}
    context = {"title": "Approvals", "items": items, "threads": threads, "delegations": delegations,
               "now": dt.datetime.now(dt.UTC), "done": request.query_params.get("done")}  # fmt: skip
    return render(request, "approvals/inbox.html", context)


@router.get("/approvals/{approval_id}")
async def detail(request: Request, approval_id: str, principal: WebPrincipal = Depends(signed_in)) -> Response:
    return await _detail(request, principal, approval_id)


async def _detail(request: Request, principal: WebPrincipal, approval_id: str, error: str | None = None,
                  status_code: int = 200) -> Response:  # fmt: skip
    app = mcc_app(request)

    def load() -> dict[str, Any]:
        a = _load_visible(app, principal, approval_id)
        d = svc.desk(app)
        standing = d.standing(a, principal.user_id, d.authority(principal.tenant_id, principal.user_id,
                                                                principal.groups))  # fmt: skip
        return {"a": a, "standing": standing, "amounts": svc.amounts_of(a.arguments, app.settings.fx_rates_to_usd),
                "fields": svc.editable_fields(a.arguments) if a.status == "pending" else [],
                "expiry_outcome": svc.expiry_outcome(), "edits_summary": summary(a.edits or [])}  # fmt: skip

    context = await asyncio.to_thread(load)
    a: Approval = context["a"]
    context.update(
        title="Approval", error=error, thread=await _thread_of(request, principal.tenant_id, approval_id),
        arguments_json=_pretty(a.arguments),
        original_json=_pretty(a.original_arguments) if a.original_arguments else None,
    )  # fmt: skip
    return render(request, "approvals/detail.html", context, status_code=status_code)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


async def _decided(request: Request, principal: WebPrincipal, approval_id: str, work: Any) -> Response:
    """Run a decision in a worker thread; a refusal re-renders the page with its status; success resumes the
    waiting conversation and returns to the inbox."""
    app = mcc_app(request)
    try:
        row: Approval = await asyncio.to_thread(work)
    except ApprovalError as exc:
        code = next((c for kind, c in _REFUSED.items() if isinstance(exc, kind)), None)
        if code is None:
            raise  # not found (another tenant's id too): the app's 404
        if code == 403:
            raise Forbidden(exc.message) from None
        return await _detail(request, principal, approval_id, error=f"{exc.message}. {exc.fix}", status_code=code)
    await _resume(request, app, row)
    return RedirectResponse(f"/approvals?done={row.approval_id}", status_code=303)


async def _resume(request: Request, app: App, row: Approval) -> None:
    chat = getattr(request.app.state, "chat", None)
    if chat is not None and hasattr(chat, "resume_after_decision"):
        try:
            await chat.resume_after_decision(row.tenant_id, row.approval_id)  # streams in the chat's own task
        except Exception:
            log.exception("chat service could not resume the thread waiting on %s", row.approval_id)
        return
    # No chat in this process: resume in the background, as `mcc approvals approve` does (the reply waits there).
    tasks: set[asyncio.Task[Any]] = request.app.state.__dict__.setdefault("approval_resumes", set())
    task = asyncio.create_task(svc.resume_waiting(app, row))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


@router.post("/approvals/{approval_id}/decide")
async def decide(request: Request, approval_id: str, principal: WebPrincipal = Depends(signed_in)) -> Response:
    form = await request.form()
    decision = str(form.get("decision", ""))
    note = str(form.get("note") or "").strip()[:2000] or None
    if decision not in ("approve", "reject"):
        return await _detail(request, principal, approval_id, "decision: choose approve or reject", 400)
    app = mcc_app(request)
    return await _decided(request, principal, approval_id,
                          lambda: svc.decide(app, principal, approval_id, decision, note))  # type: ignore[arg-type]  # fmt: skip


@router.post("/approvals/{approval_id}/edit")
async def approve_with_edits(request: Request, approval_id: str,
                             principal: WebPrincipal = Depends(signed_in)) -> Response:  # fmt: skip
    form = {k: str(v) for k, v in (await request.form()).items()}
    note = form.get("note", "").strip()[:2000] or None
    app = mcc_app(request)

    def work() -> Approval:
        a = svc.desk(app).get(principal.tenant_id, approval_id)
        edited = svc.edited_arguments(a.arguments, form)
        return svc.decide(app, principal, approval_id, "approve", note, edited)  # type: ignore[arg-type]

    return await _decided(request, principal, approval_id, work)


@router.get("/approvals/{approval_id}/status")
async def status(request: Request, approval_id: str, principal: WebPrincipal = Depends(signed_in)) -> Response:
    """The live status of one approval (JSON), for its requester's chat page and the approvers."""
    app = mcc_app(request)
    a = await asyncio.to_thread(_load_visible, app, principal, approval_id)
    return JSONResponse(svc.status_of(a))


@router.get("/approvals/{approval_id}/events")
async def events(request: Request, approval_id: str, principal: WebPrincipal = Depends(signed_in)) -> Response:
    """Server-sent events: ``status`` (the JSON status document) and ``status_text`` (the status word, for an htmx
    ``sse-swap``), now and at each change, until the approval is final."""
    app = mcc_app(request)
    await asyncio.to_thread(_load_visible, app, principal, approval_id)  # 403/404 before the stream opens

    async def stream() -> AsyncIterator[ServerSentEvent]:
        last: str | None = None
        for _ in range(1800):  # at most an hour; the browser reconnects if it still cares
            a = await asyncio.to_thread(svc.desk(app).get, principal.tenant_id, approval_id)
            doc = svc.status_of(a)
            key = json.dumps([doc["status"], doc["escalated_to"], doc["edits"]], sort_keys=True)
            final = a.status in FINAL
            if key != last:
                last = key
                # A final status asks the browser not to reconnect soon (an hour); the page then stays as it is.
                retry = 3_600_000 if final else None
                yield ServerSentEvent(json.dumps(doc), event="status", retry=retry)
                yield ServerSentEvent(html.escape(a.status), event="status_text", retry=retry)
            if final or await request.is_disconnected():
                return
            await asyncio.sleep(2)

    return EventSourceResponse(stream())


@router.post("/approvals/delegations")
async def delegate(request: Request, principal: WebPrincipal = Depends(approver)) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    app = mcc_app(request)

    def work() -> Any:
        now = dt.datetime.now(dt.UTC)
        starts = _parse_when(form.get("starts_at"), now, "starts_at")
        ends = _parse_when(form.get("ends_at"), None, "ends_at")
        return svc.desk(app).delegations.create(principal.tenant_id, principal.user_id,
                                                form.get("delegate", "").strip(), starts, ends,
                                                form.get("note", "").strip()[:500] or None)  # fmt: skip

    try:
        await asyncio.to_thread(work)
    except DelegationError as exc:
        items = await asyncio.to_thread(svc.inbox, app, principal)
        dels = await asyncio.to_thread(svc.desk(app).delegations.list, principal.tenant_id, principal.user_id)
        context = {"title": "Approvals", "items": items, "threads": {}, "delegations": dels,
                   "now": dt.datetime.now(dt.UTC), "delegation_error": f"{exc.message}. {exc.fix}"}  # fmt: skip
        return render(request, "approvals/inbox.html", context, status_code=400)
    return RedirectResponse("/approvals#delegations", status_code=303)


@router.post("/approvals/delegations/{delegation_id}/revoke")
async def revoke(request: Request, delegation_id: str, principal: WebPrincipal = Depends(signed_in)) -> Response:
    app = mcc_app(request)
    try:
        await asyncio.to_thread(svc.desk(app).delegations.revoke, principal.tenant_id, delegation_id,
                                principal.user_id)  # fmt: skip
    except DelegationError as exc:
        raise Forbidden(exc.message) from None
    return RedirectResponse("/approvals#delegations", status_code=303)


def _parse_when(value: str | None, default: dt.datetime | None, field: str) -> dt.datetime:
    """A datetime-local or ISO value from the form (UTC when it has no offset)."""
    if not value:
        if default is None:
            raise DelegationError(f"{field} is missing", "pick a date and time", field=field)
        return default
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DelegationError(f"{field}: {value!r} is not a date and time", "use the date picker",
                              field=field) from None  # fmt: skip
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
