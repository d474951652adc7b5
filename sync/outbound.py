"""Outbound propagation on DBOS: send MCC-owned campaign changes to the linked Workfront or Asana project.

One durable workflow per (campaign, system) change set, run from the ``outbound`` queue:
``claim`` (spine: pending -> syncing) -> ``send`` (read the project, write only the fields that differ) ->
``confirm`` (spine: syncing -> synced, ``campaign.synced`` event). The connectors' clients already retry 5xx and
timeouts with backoff and wait out ``429 Retry-After``; when a send still fails transiently the workflow sleeps
durably (exponential backoff, at least the server's Retry-After) and tries again, up to ``max_attempts``. A
permanent failure (bad value, unknown project, refused credentials) or the last failed attempt goes to the error log
with the step, and the state becomes ``error`` (``mcc sync errors``).

Nothing is sent twice: DBOS records each finished step, so a restarted process resumes after the last one; a step
cut off mid-send is re-run, but it first reads the project and writes only what still differs. The workflow id is
derived from the change set's field versions, so enqueuing the same change again is a no-op, and a (campaign,
system) pair in ``syncing`` is never given a second workflow: an edit made during a send is sent by the same
workflow in its next claim/send/confirm round, so two sends never race to the same project.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from dbos import DBOS, DBOSConfiguredInstance, Queue, SetWorkflowID
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.asana.custom_fields import MCC_FIELDS, sync_mcc_fields
from connectors.errors import RateLimitedError, UpstreamError
from spine.audit import AuditLog
from spine.models import ErrorLog
from sync import outbound_state as state
from sync.outbound_state import Claim, Target

# (tenant id, system) -> a fresh backend for this call (the caller closes it with ``aclose``).
BackendOpener = Callable[[str, str], Any]
SessionFactory = Callable[[], AbstractContextManager[Session]]

MAX_ROUNDS = 20  # claim/send/confirm rounds of one workflow while the campaign keeps changing
WF_TIER = "DE:MCC Tier"
WF_BUDGET = "DE:MCC Budget Planned"


def workfront_changes(values: dict[str, Any]) -> dict[str, Any]:
    """Canonical values -> ``update_project`` changes of Workfront (tier and budget as ``DE:`` custom fields)."""
    out: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            out["name"] = value
        elif name == "description":
            out["description"] = value
        elif name == "launch_date":
            out["plannedStartDate"] = value
        elif name == "end_date":
            out["plannedCompletionDate"] = value
        elif name == "tier":
            custom[WF_TIER] = value
        elif name == "budget_planned":
            amount = None if value is None else Decimal(value["amount"]).quantize(Decimal("0.01"))
            custom[WF_BUDGET] = None if value is None else f"{amount} {value['currency']}"
    if custom:
        out["custom_fields"] = custom
    return out


def asana_changes(values: dict[str, Any]) -> dict[str, Any]:
    """Canonical values -> Asana project changes; tier and budget go under ``custom_fields`` (canonical name ->
    value), written into the workspace's "MCC Tier" / "MCC Budget Planned" custom fields."""
    names = {"name": "name", "description": "notes", "launch_date": "start_on", "end_date": "due_on"}
    out: dict[str, Any] = {names[k]: v for k, v in values.items() if k in names}
    if "notes" in out and out["notes"] is None:
        out["notes"] = ""
    custom = {k: v for k, v in values.items() if k in MCC_FIELDS}
    if custom:
        out["custom_fields"] = custom
    return out


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


async def _current(backend: Any, system: str, external_id: str) -> dict[str, Any]:
    """The project's present values under the names ``*_changes`` produce."""
    if system == "workfront":
        project = (await backend.get_project(external_id)).project
        return {"name": project.name, "description": project.description,
                "plannedStartDate": _iso(project.planned_start_date),
                "plannedCompletionDate": _iso(project.planned_completion_date),
                "custom_fields": dict(project.custom_fields)}  # fmt: skip
    project = await backend.get_project(external_id)
    return {"name": project.name, "notes": project.notes, "start_on": _iso(project.start_on),
            "due_on": _iso(project.due_on)}  # fmt: skip


def _differs(wanted: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The wanted changes whose values the project does not hold yet. Asana's custom fields are compared by
    ``sync_mcc_fields`` instead: only it knows each field's type (number, text, enum) and so the value to hold."""
    out: dict[str, Any] = {}
    for key, value in wanted.items():
        if key == "custom_fields":
            have = current.get("custom_fields") or {}
            custom = {k: v for k, v in value.items() if have.get(k) != v}
            if custom:
                out[key] = custom
        elif current.get(key) != value:
            out[key] = value
    if any(k in out for k in ("plannedStartDate", "plannedCompletionDate", "start_on", "due_on")):
        # Send both dates together so the system checks the new pair, not a new date against a stale one.
        for key in ("plannedStartDate", "plannedCompletionDate", "start_on", "due_on"):
            if key in wanted:
                out[key] = wanted[key]
    return out


def _failure(exc: BaseException) -> dict[str, Any]:
    # Rate limits, 5xx and network trouble pass; a refused value, a missing project or a bug would fail again.
    transient = isinstance(exc, RateLimitedError | UpstreamError | OSError | TimeoutError)
    return {"ok": False, "transient": transient, "error": str(exc)[:2000], "type": type(exc).__name__,
            "code": getattr(exc, "code", None), "field": getattr(exc, "field", None),
            "fix": getattr(exc, "fix", None), "retry_after": getattr(exc, "retry_after", None)}  # fmt: skip


class RecordedFailure(Exception):
    """A send failure as the workflow recorded it (for the error log)."""

    def __init__(self, failure: dict[str, Any]) -> None:
        super().__init__(failure["error"])
        self.code, self.field, self.fix = failure.get("code"), failure.get("field"), failure.get("fix")
        self.retry_after = failure.get("retry_after")
        self.kind = failure.get("type") or "Error"


@DBOS.dbos_class("mcc.Outbound")
class Outbound(DBOSConfiguredInstance):
    """The outbound propagator of one process: how to reach the spine and the external systems, and the policy
    for retrying a failed send. Build it before ``launch_durable`` (DBOS finds it by ``config_name`` on recovery)."""

    def __init__(
        self,
        sessions: SessionFactory,
        open_backend: BackendOpener,
        *,
        config_name: str = "outbound",
        max_attempts: int = 4,
        backoff_seconds: float = 2.0,
        backoff_cap_seconds: float = 300.0,
        audit: AuditLog | None = None,
    ) -> None:
        self.sessions = sessions
        self.open_backend = open_backend
        self.audit = audit
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_cap_seconds = backoff_cap_seconds
        super().__init__(config_name)

    # ---- entry points (outside any workflow) ------------------------------------------------------

    def enqueue_pending(self, queue: Queue, tenant_id: str) -> list[str]:
        """Plan new MCC changes of the tenant and enqueue one workflow per pending (campaign, system); returns the
        ids of every unfinished propagation of the tenant: the new ones, and those DBOS recovered after a restart
        (an already queued or finished change set is never enqueued twice)."""
        with self.sessions() as session, session.begin():
            targets = state.plan(session, tenant_id)
            ids = [self._workflow_id(session, t) for t in targets]
        for target, wf_id in zip(targets, ids, strict=True):
            with SetWorkflowID(wf_id):
                queue.enqueue(self.propagate, target.tenant_id, target.campaign_id, target.system)
        active = DBOS.list_workflows(status=["PENDING", "ENQUEUED"], workflow_id_prefix=f"outbound:{tenant_id}:",
                                     load_input=False, load_output=False)  # fmt: skip
        return list(dict.fromkeys([*ids, *(w.workflow_id for w in active)]))

    @staticmethod
    def _workflow_id(session: Session, target: Target) -> str:
        row = state.state_row(session, target.tenant_id, target.campaign_id, target.system, create=False)
        versions = (row.field_versions if row is not None else None) or {}
        stamp = "-".join(f"{k}{v.get('out', 0)}" for k, v in sorted(versions.items()) if isinstance(v, dict))
        # A retry after a recorded failure is a new workflow: the failed one keeps its own id and result.
        failures = session.scalar(
            select(func.count()).select_from(ErrorLog).where(
                ErrorLog.tenant_id == target.tenant_id, ErrorLog.campaign_id == target.campaign_id,
                ErrorLog.step == f"outbound.send.{target.system}",
            )
        )  # fmt: skip
        return f"outbound:{target.key}:{stamp}:r{failures or 0}"

    # ---- the workflow --------------------------------------------------------------------------------

    @DBOS.workflow(name="mcc.outbound.propagate")
    def propagate(self, tenant_id: str, campaign_id: str, system: str) -> str:
        """claim -> send (durable retries) -> confirm, again while edits arrived meanwhile; the final status."""
        for _ in range(MAX_ROUNDS):
            claimed = self.claim_step(tenant_id, campaign_id, system)
            if claimed is None:
                return "synced"
            result = self._send_with_retries(tenant_id, system, claimed)
            if not result["ok"]:
                self.fail_step(tenant_id, campaign_id, system, result)
                return "error"
            if self.confirm_step(tenant_id, campaign_id, system, claimed["versions"], result["sent"]) == "synced":
                return "synced"
        return "syncing"  # still being edited: the next ``enqueue_pending`` after recovery picks it up

    def _send_with_retries(self, tenant_id: str, system: str, claimed: dict[str, Any]) -> dict[str, Any]:
        """The send step until it succeeds, fails for good, or ``max_attempts`` are spent (durable sleeps)."""
        result: dict[str, Any] = {}
        for attempt in range(self.max_attempts):
            result = self.send_step(tenant_id, system, claimed)
            if result["ok"] or not result["transient"]:
                break
            if attempt < self.max_attempts - 1:
                wait = min(self.backoff_cap_seconds, self.backoff_seconds * 2**attempt)
                DBOS.sleep(max(wait, float(result.get("retry_after") or 0)))
        return result | {"attempts": attempt + 1}

    @DBOS.step(name="mcc.outbound.claim")
    def claim_step(self, tenant_id: str, campaign_id: str, system: str) -> dict[str, Any] | None:
        with self.sessions() as session, session.begin():
            claimed = state.claim(session, Target(tenant_id, campaign_id, system))
        return None if claimed is None else asdict(claimed)

    @DBOS.step(name="mcc.outbound.send")
    def send_step(self, tenant_id: str, system: str, claimed: dict[str, Any]) -> dict[str, Any]:
        claim = Claim(**claimed)
        wanted = workfront_changes(claim.values) if system == "workfront" else asana_changes(claim.values)
        return asyncio.run(self._send(tenant_id, system, claim.external_id, wanted))

    async def _send(self, tenant_id: str, system: str, external_id: str, wanted: dict[str, Any]) -> dict[str, Any]:
        backend = self.open_backend(tenant_id, system)
        custom = wanted.pop("custom_fields", None) if system == "asana" else None
        try:
            changes = _differs(wanted, await _current(backend, system, external_id))
            if changes:
                await backend.update_project(external_id, changes)
            if custom:
                # After the project fields: a missing custom field fails the send (error log, with the fix), but
                # the name and dates are already out; the retry finds them equal and writes only the custom field.
                written = await sync_mcc_fields(backend.project_fields(), external_id, custom)
                if written:
                    changes["custom_fields"] = written
            return {"ok": True, "sent": changes}
        except Exception as exc:  # every failure is recorded and classified, never lost
            return _failure(exc)
        finally:
            await backend.aclose()

    @DBOS.step(name="mcc.outbound.confirm")
    def confirm_step(
        self, tenant_id: str, campaign_id: str, system: str, versions: dict[str, int], sent: dict[str, Any]
    ) -> str:
        with self.sessions() as session, session.begin():
            status = state.confirm(session, Target(tenant_id, campaign_id, system), versions, sent)
            self._audit(session, tenant_id, system, "executed", {"campaign_id": campaign_id, "sent": sent})
            return status

    @DBOS.step(name="mcc.outbound.fail")
    def fail_step(self, tenant_id: str, campaign_id: str, system: str, failure: dict[str, Any]) -> None:
        error = RecordedFailure(failure)
        with self.sessions() as session, session.begin():
            state.fail(session, Target(tenant_id, campaign_id, system), f"outbound.send.{system}", error,
                       DBOS.workflow_id, attempts=failure.get("attempts"))  # fmt: skip
            self._audit(session, tenant_id, system, "failed", {"campaign_id": campaign_id, "error": failure["error"]})

    def _audit(self, session: Session, tenant_id: str, system: str, decision: str, detail: dict[str, Any]) -> None:
        # In the step's transaction: the state change and its audit row commit together.
        if self.audit is not None:
            self.audit.append_in(session, tenant_id=tenant_id, actor="sync:outbound", server="sync",
                                 tool=f"outbound.{system}", decision=decision, detail=detail)  # fmt: skip
