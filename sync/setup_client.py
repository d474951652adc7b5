"""Start campaign-setup workflows and read their state from the DBOS system database, from any process (a worker
need not run here: ``DBOSClient`` enqueues onto the ``campaign_setup`` queue that workers share)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS, DBOSClient, EnqueueOptions, WorkflowStatus

from spine.errors import IdempotencyKeyReusedError
from sync.campaign_setup import STEPS, WORKFLOW_NAME, request_id_for, workflow_id_for
from sync.durable import APP_NAME, CAMPAIGN_SETUP_QUEUE, DurableConfig

FINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})


@dataclass(frozen=True, slots=True)
class StepState:
    name: str
    state: str  # done | failed | running | pending
    attempts: int = 0
    finished_at: dt.datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SetupRun:
    """One campaign-setup workflow as ``mcc workflows`` and the spine tool show it."""

    workflow_id: str
    request_id: str
    status: str  # DBOS status: ENQUEUED, PENDING (running), SUCCESS, ERROR, ...
    created_at: dt.datetime | None
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    steps: tuple[StepState, ...] = ()

    def summary(self) -> dict[str, Any]:
        """What the spine tool answers: status, the result's ids, the error, each step's state."""
        return {"workflow_id": self.workflow_id, "request_id": self.request_id, "status": self.status,
                "campaign_id": self.result.get("campaign_id"), "system": self.result.get("system"),
                "project_id": self.result.get("project_id"), "work_items": self.result.get("work_items"),
                "template": self.result.get("template"), "assigned": list(self.result.get("assigned") or []),
                "error": self.error, "steps": [{"name": st.name, "state": st.state} for st in self.steps]}  # fmt: skip


def _when(ms: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC) if ms else None


def _steps(status: str, records: list[dict[str, Any]]) -> tuple[StepState, ...]:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_name.setdefault(str(r["function_name"]).rsplit(".", 1)[-1], []).append(r)
    out, running_marked = [], False
    for name in STEPS:
        rows = by_name.get(name, [])
        last = rows[-1] if rows else None
        if last is not None and last.get("error") is None and last.get("completed_at_epoch_ms"):
            out.append(StepState(name, "done", len(rows), _when(last["completed_at_epoch_ms"])))
        elif last is not None and last.get("error") is not None:
            finished = _when(last.get("completed_at_epoch_ms"))
            out.append(StepState(name, "failed", len(rows), finished, str(last["error"])))
        elif status == "PENDING" and not running_marked:
            out.append(StepState(name, "running"))
            running_marked = True
        else:
            out.append(StepState(name, "pending"))
    return tuple(out)


def _check_same_request(client: DBOSClient, workflow_id: str, request: dict[str, Any]) -> None:
    """The workflow of this key must be this call: the same key with other fields or another caller is refused."""
    rows = client.list_workflows(workflow_ids=[workflow_id])
    inputs = rows[0].input if rows else None
    first = inputs["args"][0] if inputs and inputs.get("args") else None
    if isinstance(first, dict) and _identity(first) != _identity(request):
        raise IdempotencyKeyReusedError(request["idempotency_key"])


def _identity(request: dict[str, Any]) -> tuple[Any, ...]:
    return (request.get("fields"), request.get("actor"), request.get("campaign_id"), request.get("project_id"))


def _start_here(workflow_id: str, request: dict[str, Any]) -> None:
    """Start the workflow in this (launched) process now; DBOS records it first, so a crash still recovers it."""
    from dbos import SetWorkflowID

    from sync.campaign_setup import campaign_setup_workflow

    with SetWorkflowID(workflow_id):
        DBOS.start_workflow(campaign_setup_workflow, request)


class CampaignSetupClient:
    """Enqueue and inspect campaign-setup workflows on one DBOS system database."""

    def __init__(self, config: DurableConfig) -> None:
        self.config = config
        self._migrated = False

    @contextmanager
    def _client(self) -> Iterator[DBOSClient]:
        if not self._migrated:  # the client never creates DBOS's tables; a worker may not have run yet
            DBOS.migrate(self.config.system_database_url, schema=self.config.schema)
            self._migrated = True
        client = DBOSClient(system_database_url=self.config.system_database_url, dbos_system_schema=self.config.schema,
                            application_name=APP_NAME)  # fmt: skip
        try:
            yield client
        finally:
            client.destroy()

    def start(
        self, *, tenant_id: str, actor: str, fields: dict[str, Any] | None, idempotency_key: str,
        approval_id: str | None = None, wait_seconds: float = 0.0, campaign_id: str | None = None,
        project_id: str | None = None, direct: bool = False,
    ) -> SetupRun:  # fmt: skip
        """Enqueue the workflow of this request (the same tenant and key: the same workflow, never a second one) and
        wait up to ``wait_seconds`` for it to finish; the run as it stands then. ``fields``: a new campaign;
        ``campaign_id`` (and ``project_id``): an existing one. ``direct``: this process is a launched worker, so the
        workflow starts here at once instead of waiting for a queue poll."""
        if (fields is None) == (campaign_id is None):
            raise ValueError("campaign setup: give fields (a new campaign) or campaign_id (an existing one)")
        request_id = request_id_for(tenant_id, idempotency_key)
        request = {"request_id": request_id, "tenant_id": tenant_id, "actor": actor, "fields": fields,
                   "approval_id": approval_id, "idempotency_key": idempotency_key}  # fmt: skip
        if campaign_id is not None:  # keys only in this mode: a new-campaign request stays as it was recorded
            request |= {"campaign_id": campaign_id, "project_id": project_id}
        wid = workflow_id_for(request_id)
        options: EnqueueOptions = {"workflow_name": WORKFLOW_NAME, "queue_name": CAMPAIGN_SETUP_QUEUE,
                                   "workflow_id": wid, "app_version": self.config.application_version,
                                   "application_name": APP_NAME}  # fmt: skip
        with self._client() as client:
            if direct and not client.list_workflows(workflow_ids=[wid]):
                _start_here(wid, request)
            else:
                client.enqueue(options, request)  # an existing workflow id returns that workflow, nothing new
            _check_same_request(client, wid, request)
            deadline = time.monotonic() + wait_seconds
            while True:
                run = self._run(client, wid)
                if run is not None and (run.status in FINAL or time.monotonic() >= deadline):
                    return run
                time.sleep(0.1)

    def get(self, workflow_id: str) -> SetupRun | None:
        """One run by workflow id (``campaign-setup-<request id>``), or None."""
        with self._client() as client:
            return self._run(client, workflow_id)

    def list(self, limit: int = 50) -> list[SetupRun]:
        """The newest runs first."""
        with self._client() as client:
            rows = client.list_workflows(name=WORKFLOW_NAME, limit=limit, sort_desc=True)
            return [self._from_status(client, st) for st in rows]

    def _run(self, client: DBOSClient, workflow_id: str) -> SetupRun | None:
        rows = client.list_workflows(workflow_ids=[workflow_id])
        return self._from_status(client, rows[0]) if rows else None

    @staticmethod
    def _from_status(client: DBOSClient, st: WorkflowStatus) -> SetupRun:
        steps = client.list_workflow_steps(st.workflow_id)
        result = st.output if isinstance(st.output, dict) else {}
        return SetupRun(
            workflow_id=st.workflow_id, request_id=st.workflow_id.removeprefix("campaign-setup-"), status=st.status,
            created_at=_when(st.created_at), result=result, error=str(st.error) if st.error else None,
            steps=_steps(st.status, steps),  # type: ignore[arg-type]
        )  # fmt: skip
