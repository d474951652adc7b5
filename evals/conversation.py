"""Driving one case's conversation: user turns through the real ``Assistant`` (graph, MCP servers, guard), and the
actions between turns (an approver approves or rejects through the spine server's ``resolve_approval`` tool, an
approval expires, someone changes a task in Workfront/Asana directly), each followed by resuming the waiting
thread the way ``mcc chat`` does. Every step is recorded for scoring and for the report's trajectory.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from mcp import Client
from pydantic import BaseModel, Field

from agents.assistant import Assistant, AssistantError, TurnResult
from evals.cases import Action, ExternalChange
from evals.world import EvalApp
from evals.world_add import WF_STATUS, expire_approval
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Step(BaseModel):
    """One recorded step: a user turn, an action, or the resumed turn after an action."""

    kind: Literal["user", "action", "resume"]
    turn: int = Field(description="Index of the user turn this step belongs to")
    label: str
    text: str
    route: list[str] = Field(default_factory=list)
    calls: list[dict[str, Any]] = Field(default_factory=list, description="Tool calls made in this step")
    reply: str = ""
    waiting: bool = False
    approvals: list[dict[str, Any]] = Field(default_factory=list)
    ok: bool = True
    error: str | None = None
    seconds: float = 0.0
    audit_from: int = 0
    audit_to: int = 0
    results_from: int = 0
    results_to: int = 0
    usage: dict[str, int] = Field(default_factory=dict, description="Tokens of this step's model calls")


class Conversation:
    """One thread of one principal, plus the approvers and systems around it."""

    def __init__(self, app: EvalApp, assistant: Assistant, tenant: str, refs: dict[str, str]) -> None:
        self.app = app
        self.assistant = assistant
        self.tenant = tenant
        self.refs = refs
        self.thread_id: str | None = None
        self.steps: list[Step] = []
        self._turn_calls = 0  # tool calls of the current turn already reported (a resume reports only new ones)
        # the same per waiting approval: messages answered meanwhile are turns of their own, so a resume continues
        # the count of the turn that waits on its approval
        self._calls_at: dict[str, int] = {}
        self._audit = AuditLog(app.sessions)

    # --- user turns ----------------------------------------------------------------------------------------------

    async def send(self, turn: int, text: str) -> Step:
        """The user's message as the next turn of the thread."""
        step = self._begin("user", turn, f"turn {turn + 1}", text)
        try:  # a thread waiting on an approval answers too (the waiting call keeps waiting)
            result = await self.assistant.send(text, self.thread_id)
        except AssistantError as exc:
            step.ok, step.error = False, str(exc)
            return self._end(step)
        self.thread_id = result.thread_id
        self._turn_calls = 0
        return self._end(self._apply(step, result))

    def _apply(self, step: Step, result: TurnResult, start: int | None = None) -> Step:
        calls = [c.model_dump(mode="json") for c in result.tool_calls]
        step.calls = calls[self._turn_calls if start is None else start :]
        self._turn_calls = len(calls)
        for a in result.approvals:
            if result.waiting and a.status == "pending":
                self._calls_at.setdefault(a.approval_id, len(calls))
        step.route, step.reply, step.waiting = list(result.route), result.reply, result.waiting
        step.approvals = [a.model_dump(mode="json") for a in result.approvals]
        step.usage = result.usage.model_dump()
        return step

    # --- actions -------------------------------------------------------------------------------------------------

    async def act(self, turn: int, index: int, action: Action) -> list[Step]:
        """Run one action; when it succeeded and a thread waits on its approval, resume it (as the requester)."""
        kind = action.kind
        label = f"turn {turn + 1} · action {index + 1}: {kind}"
        step = self._begin("action", turn, label, self._describe(action))
        approval_id: str | None = None
        try:
            if kind in ("approve", "reject"):
                spec = action.approve or action.reject
                assert spec is not None
                approval_id = self.approval(spec.approval)
                step.text += f" (approval {approval_id})"
                await self._resolve(approval_id, spec.by, "approve" if kind == "approve" else "reject", spec.note)
            elif kind == "expire":
                assert action.expire is not None
                approval_id = self.approval(action.expire.approval)
                step.text += f" (approval {approval_id})"
                status = expire_approval(self.app, self.tenant, approval_id)
                if status != "expired":
                    raise RuntimeError(f"approval {approval_id} is {status}: only a pending approval can expire")
            else:
                assert action.external_change is not None
                await self._external(action.external_change)
        except Exception as exc:  # the action's failure is its outcome (e.g. a refused self-approval)
            step.ok, step.error = False, str(exc)
        steps = [self._end(step)]
        if step.ok and action.resume and approval_id is not None:
            steps.append(await self._resume(turn, label, approval_id))
        return steps

    def approval(self, ref: str) -> str:
        """The approval an action names: ``last``, ``pending``, a world approval's ref, or an approval id."""
        if ref in self.refs:
            return self.refs[ref]
        if _UUID_RE.match(ref):
            return ref
        asked = [a["approval_id"] for s in self.steps for a in s.approvals]
        asked = list(dict.fromkeys(asked))
        if ref == "last" and asked:
            return asked[-1]
        if ref == "pending":
            store = ApprovalStore(self.app.sessions)
            for aid in reversed(asked):
                if store.get(self.tenant, aid).status == "pending":
                    return aid
        raise LookupError(f"approval: no approval {ref!r} in this conversation (it asked for {len(asked)})")

    async def _resolve(self, approval_id: str, by: str, decision: str, note: str | None) -> None:
        groups = self.app.groups_of(self.tenant, by)
        if groups is None:
            raise LookupError(f"by: {by!r} is not a user of tenant {self.tenant}")
        server = self.app.server_for("spine", Principal(by, self.tenant, groups))
        args: dict[str, Any] = {"approval_id": approval_id, "decision": decision}
        if note:
            args["note"] = note
        async with Client(server) as client:
            result = await client.call_tool("resolve_approval", args)
        if result.is_error:
            raise RuntimeError("".join(getattr(b, "text", "") for b in result.content) or "resolve_approval failed")

    async def _resume(self, turn: int, label: str, approval_id: str) -> Step:
        step = self._begin("resume", turn, f"{label} → resume", f"resume the thread waiting on {approval_id}")
        try:
            result = await self.assistant.resume_waiting(approval_id)
        except AssistantError as exc:
            step.ok, step.error = False, str(exc)
            return self._end(step)
        if result is None:
            step.text, step.reply = f"no thread waits on approval {approval_id}", ""
            return self._end(step)
        return self._end(self._apply(step, result, self._calls_at.pop(approval_id, None)))

    async def _external(self, change: ExternalChange) -> None:
        """Change a task in the external system itself (outside MCC and its guard)."""
        if change.system == "workfront":
            backend = self.app.workfront_backend(self.tenant)
            page = await backend.search("TASK", {"name": change.task, "name_Mod": "cieq"}, ["ID", "name"], limit=50)
            ids = [str(i["ID"]) for i in page.items] or (
                [change.task] if re.fullmatch(r"[0-9a-f]{32}", change.task) else []
            )
            if len(ids) != 1:
                raise LookupError(f"external_change.task: {len(ids)} Workfront tasks named {change.task!r}")
            if change.notes is not None:
                await backend.update_task(ids[0], {"description": change.notes})
            if change.status is not None:
                await backend.update_status("task", ids[0], WF_STATUS[change.status])
            return
        backend = self.app.asana_backend(self.tenant)
        page = await backend.search_tasks(text=change.task, limit=100)
        hits = [t for t in page.data if t.name.casefold() == change.task.casefold() or t.gid == change.task]
        if len(hits) != 1:
            raise LookupError(f"external_change.task: {len(hits)} Asana tasks named {change.task!r}")
        changes: dict[str, Any] = {}
        if change.notes is not None:
            changes["notes"] = change.notes
        if change.status is not None:
            changes["completed"] = change.status == "complete"
        await backend.update_task(hits[0].gid, changes)

    @staticmethod
    def _describe(action: Action) -> str:
        if action.approve or action.reject:
            spec = action.approve or action.reject
            assert spec is not None
            return f"{action.kind} {spec.approval} by {spec.by}" + (f" ({spec.note})" if spec.note else "")
        if action.expire:
            return f"expire {action.expire.approval}"
        c = action.external_change
        assert c is not None
        return f"in {c.system}, task {c.task!r}: " + ", ".join(
            f"{k}={v!r}" for k, v in (("status", c.status), ("notes", c.notes)) if v is not None
        )

    # --- bookkeeping ---------------------------------------------------------------------------------------------

    def _begin(self, kind: str, turn: int, label: str, text: str) -> Step:
        step = Step(kind=kind, turn=turn, label=label, text=text)  # type: ignore[arg-type]
        step.audit_from = self._audit.head()[0]
        step.results_from = len(self.app.recorder.calls)
        step.seconds = time.perf_counter()
        return step

    def _end(self, step: Step) -> Step:
        step.seconds = round(time.perf_counter() - step.seconds, 3)
        step.audit_to = self._audit.head()[0]
        step.results_to = len(self.app.recorder.calls)
        self.steps.append(step)
        return step
