"""The durable campaign-creation workflow (DBOS): one request becomes a canonical campaign, its project and task
structure in the system the routing rule picks, people assigned, id mappings stored and events published.

Steps, each a DBOS step whose result is recorded when it finishes (``STEPS``): validate -> policy (the guard
decided before the workflow was started; its decision and approval id are recorded) -> enrich (task template for
the type and tier, ``setup_templates.yaml``) -> choose_system (``routing``: the one configurable rule) ->
record_campaign (the spine campaign, its tracking keys and ``campaign.created``) -> create_project ->
create_tasks -> assign_people -> store_mappings (SystemRefs and work items, with an audit row) -> publish
(``campaign.synced``).

An EXISTING campaign (the request's ``campaign_id``, optionally ``project_id``; ``sync/setup_existing.py``) runs
the same steps: validate finds it, choose_system checks its links against the rule, record_campaign finds it
(nothing created, no ``campaign.created``) and create_project adopts its linked project, or creates one.

A process killed anywhere resumes, in the next worker, at the first step without a recorded result. That step may
have half-run: every external create carries the request key ``{step}-{request_id}-{index}`` (a repeat returns the
first object), and every spine write looks for what it wrote before, so nothing is created twice.

DBOS finds a workflow by its registered name when it recovers it, so the services the steps use (database, system
backends, routing) are bound to this process by name with ``serving(services)``, for as long as DBOS runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOS, StepOptions
from dbos import error as dbos_error
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import ConnectorError, RateLimitedError, UpstreamError
from spine.audit import AuditLog
from spine.errors import SpineError
from spine.models import EventLog
from spine.repositories import SpineStore, open_store
from spine.schemas import CampaignCreate
from spine.validation import parse
from sync.setup_existing import StepFailed, TransientStepFailure, linked_project, validate_existing
from sync.setup_systems import SetupSystem, SystemFactory, SystemName, with_system
from sync.setup_templates import choose_template, plan_tasks

log = logging.getLogger("mcc.sync.campaign_setup")

WORKFLOW_NAME = "mcc.campaign_setup"
STEPS: tuple[str, ...] = (
    "validate", "policy", "enrich", "choose_system", "record_campaign",
    "create_project", "create_tasks", "assign_people", "store_mappings", "publish",
)  # fmt: skip
EXTERNAL_STEPS = frozenset({"create_project", "create_tasks", "assign_people"})
_REQUEST_NS = uuid.UUID("7c1b9e52-33a4-4e0f-8d6e-2b9f4a61c0d7")


def request_id_for(tenant_id: str, idempotency_key: str) -> str:
    """The request id of a setup call: the same tenant and key, the same request (and workflow)."""
    return str(uuid.uuid5(_REQUEST_NS, f"{tenant_id}\n{idempotency_key}"))


def workflow_id_for(request_id: str) -> str:
    return f"campaign-setup-{request_id}"


def request_key(step: str, request_id: str, index: int) -> str:
    """The key every external create carries: ``{step}-{request_id}-{index}``."""
    return f"{step}-{request_id}-{index}"


@dataclass(frozen=True)
class SetupServices:
    """What the steps use. ``systems`` builds a fresh backend per step (closed after it); ``observer`` is told
    ``(step, request_id)`` as each step starts and ``(step + ":done", request_id)`` once its effects are committed
    (progress logs; the fault tests stop a worker there)."""

    sessions: sessionmaker[Session]
    systems: SystemFactory
    routing: dict[str, str]
    audit: AuditLog | None = None
    observer: Callable[[str, str], None] | None = None
    retry_interval_sec: float = 0.5
    max_attempts: int = 4


@dataclass
class _Bound:
    services: dict[str, SetupServices] = field(default_factory=dict)


_BOUND = _Bound()  # process-wide by necessity: DBOS workflows are process-wide and recovered by name


@contextmanager
def serving(services: SetupServices) -> Iterator[SetupServices]:
    """Bind the services the workflow's steps use in this process (before DBOS launches, until it is destroyed)."""
    if "default" in _BOUND.services:
        from sync.durable import DurableError

        raise DurableError("campaign setup services are already bound in this process (a worker runs here); leave "
                           "the other worker block first")  # fmt: skip
    _BOUND.services["default"] = services
    try:
        yield services
    finally:
        _BOUND.services.pop("default", None)


def _services() -> SetupServices:
    services = _BOUND.services.get("default")
    if services is None:
        raise StepFailed("campaign setup: no services bound in this worker; run it inside sync.campaign_setup.serving")
    return services


# ---------------------------------------------------------------- steps


def _validate(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    if req.get("campaign_id"):
        with open_store(svc.sessions, req["tenant_id"]) as s:
            return validate_existing(s, req)
    spec = parse(CampaignCreate, req["fields"])
    with open_store(svc.sessions, req["tenant_id"]) as s:
        s.directory.get_user(spec.owner_id)
        s.directory.get_user(req["actor"])
    return {"campaign": spec.model_dump(mode="json")}


def _policy(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    # The guard decided (identity, policy, budget approvals) before the tool started this workflow.
    return {"decision": "allow", "decided_by": "guard", "actor": req["actor"], "approval_id": req.get("approval_id")}


def _enrich(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    campaign = state["validate"]["campaign"]
    template = choose_template(campaign["type"], campaign["tier"])
    launch = dt.date.fromisoformat(campaign["launch_date"])
    return {"template": template.id, "workfront_template": template.workfront_template,
            "sections": plan_tasks(template, launch)}  # fmt: skip


def _choose_system(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    campaign_type = state["validate"]["campaign"]["type"]
    system = svc.routing.get(campaign_type) or svc.routing.get("*", "workfront")
    if system not in ("workfront", "asana"):
        raise StepFailed(f"work_routing: {campaign_type} routes to {system!r}; use workfront or asana")
    linked: str | None = None
    if state["validate"].get("existing"):
        with open_store(svc.sessions, req["tenant_id"]) as s:
            linked = linked_project(s, req, state["validate"]["campaign"], system)
    return {"system": system, "linked_project": linked}


def _record_campaign(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    campaign = state["validate"]["campaign"]
    key = request_key("record_campaign", req["request_id"], 0)
    with open_store(svc.sessions, req["tenant_id"]) as s:
        if state["validate"].get("existing"):  # found, nothing created
            made = s.campaigns.get(campaign["id"])
        else:
            made = s.campaigns.create(campaign, actor=req["actor"], client_request_key=key)
    sections = state["enrich"]["sections"]
    starts = [t["start"] for sec in sections for t in sec["tasks"]]
    dues = [t["due"] for sec in sections for t in sec["tasks"]]
    return {"campaign_id": made.id, "name": made.name, "type": str(made.type), "tier": made.tier,
            "start": min(starts), "end": max([*dues, campaign.get("end_date") or max(dues)])}  # fmt: skip


def _identity(store: SpineStore, user_id: str, system: str) -> str | None:
    user = store.directory.get_user(user_id)
    return user.workfront_user_id if system == "workfront" else user.asana_user_gid


def _run_external(svc: SetupServices, req: dict[str, Any], system: str, work: Callable[[SetupSystem], Any]) -> Any:
    sys_name: SystemName = "asana" if system == "asana" else "workfront"
    return asyncio.run(with_system(svc.systems, req["tenant_id"], sys_name, work))


def _create_project(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    system = state["choose_system"]["system"]
    rec = state["record_campaign"]
    with open_store(svc.sessions, req["tenant_id"]) as s:
        owner = _identity(s, state["validate"]["campaign"]["owner_id"], system)
    info = {"id": rec["campaign_id"], "name": rec["name"], "type": rec["type"], "tier": rec["tier"],
            "start": rec["start"], "end": rec["end"]}  # fmt: skip
    key = request_key("create_project", req["request_id"], 0)
    adopt = state["choose_system"].get("linked_project")

    async def work(target: SetupSystem) -> str:
        if adopt:  # the linked or given project, once it is known to exist there
            if not await target.project_exists(adopt):
                raise StepFailed(f"create_project: project_id: {system} has no project {adopt} (fix: pass an "
                                 "existing project, or leave project_id out to create one)")  # fmt: skip
            return str(adopt)
        return await target.create_project(info, owner, key)

    return {"system": system, "project_id": _run_external(svc, req, system, work)}


def _create_tasks(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    system = state["choose_system"]["system"]
    project_id = state["create_project"]["project_id"]
    sections = state["enrich"]["sections"]

    async def work(target: SetupSystem) -> list[dict[str, Any]]:
        made, index = [], 0
        for section in sections:
            section_id = await target.create_section(project_id, section["name"],
                                                     request_key("create_tasks", req["request_id"], index))  # fmt: skip
            index += 1
            tasks = []
            for task in section["tasks"]:
                task_id = await target.create_task(project_id, section_id, task,
                                                   request_key("create_tasks", req["request_id"], index))  # fmt: skip
                index += 1
                tasks.append({**task, "id": task_id})
            made.append({"name": section["name"], "id": section_id, "tasks": tasks})
        return made

    return {"sections": _run_external(svc, req, system, work)}


def _assignees(store: SpineStore, sections: list[dict[str, Any]], owner: str, system: str) -> list[tuple[str, str]]:
    """(task id, user id) per task: the owner for ``owner`` tasks, else the role group's members with an identity in
    ``system`` in turn (by user id), else the owner."""
    turns: dict[str, int] = {}
    picked = []
    for section in sections:
        for task in section["tasks"]:
            role = task["role"]
            members = [] if role == "owner" else [u for u in sorted(store.directory.members(role))
                                                   if _identity(store, u, system)]  # fmt: skip
            user = owner
            if members:
                user = members[turns.get(role, 0) % len(members)]
                turns[role] = turns.get(role, 0) + 1
            picked.append((task["id"], user))
    return picked


def _assign_people(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    system = state["choose_system"]["system"]
    sections = state["create_tasks"]["sections"]
    owner = state["validate"]["campaign"]["owner_id"]
    with open_store(svc.sessions, req["tenant_id"]) as s:
        picked = [(task_id, user, _identity(s, user, system)) for task_id, user in _assignees(s, sections, owner,
                                                                                             system)]  # fmt: skip

    async def work(target: SetupSystem) -> None:
        for task_id, _, external in picked:
            if external is not None:
                await target.assign(task_id, external)

    _run_external(svc, req, system, work)
    return {"assignments": [{"task_id": t, "user_id": u, "external_user": e} for t, u, e in picked],
            "unassigned": [t for t, _, e in picked if e is None]}  # fmt: skip


def _store_mappings(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    system = state["choose_system"]["system"]
    campaign_id = state["record_campaign"]["campaign_id"]
    project_id = state["create_project"]["project_id"]
    assignee = {a["task_id"]: a["external_user"] for a in state["assign_people"]["assignments"]}
    written = 0
    with open_store(svc.sessions, req["tenant_id"]) as s:
        if s.refs.external_id("campaign", campaign_id, system) is None:
            s.refs.link("campaign", campaign_id, system, project_id, actor=req["actor"])
            written += 1
        items: list[str] = []
        for section in state["create_tasks"]["sections"]:
            parent = _mirror_item(s, req, system, campaign_id, section["id"], section["name"], None, None, None)
            written += parent[1]
            for task in section["tasks"]:
                item = _mirror_item(s, req, system, campaign_id, task["id"], task["name"], parent[0], task,
                                    assignee.get(task["id"]))  # fmt: skip
                written += item[1]
                items.append(item[0])
        if written and svc.audit is not None:  # the writes and their audit row commit together
            svc.audit.append_in(
                s.session, tenant_id=req["tenant_id"], actor=req["actor"], server="sync", tool="campaign_setup",
                decision="write", approval_id=req.get("approval_id"),
                detail={"request_id": req["request_id"], "campaign_id": campaign_id, "system": system,
                        "project_id": project_id, "mappings": written},
            )  # fmt: skip
    return {"campaign_id": campaign_id, "system": system, "project_id": project_id, "work_items": items}


def _mirror_item(
    s: SpineStore, req: dict[str, Any], system: str, campaign_id: str, external_id: str, name: str,
    parent: str | None, task: dict[str, Any] | None, assignee: str | None,
) -> tuple[str, int]:  # fmt: skip
    """The work item of one external task (created with its SystemRef unless mapped already); 1 when written."""
    existing = s.refs.canonical_id(system, "work_item", external_id)
    if existing is not None:
        return existing, 0
    data: dict[str, Any] = {"campaign_id": campaign_id, "parent_item_id": parent, "name": name, "item_type": "task",
                            "source_system": system, "external_id": external_id, "sync_status": "synced"}  # fmt: skip
    if task is not None:
        data |= {"planned_start_date": task["start"], "planned_end_date": task["due"], "assignee_id": assignee}
    return s.work_items.create(data, actor=req["actor"]).id, 1


def _publish(svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    mapped = state["store_mappings"]
    campaign_id = mapped["campaign_id"]
    with open_store(svc.sessions, req["tenant_id"]) as s:
        rows = s.session.scalars(
            select(EventLog.payload).where(EventLog.tenant_id == req["tenant_id"], EventLog.aggregate_id == campaign_id,
                                           EventLog.event_type == "campaign.synced")
        )  # fmt: skip
        if not any(p.get("request_id") == req["request_id"] for p in rows):
            payload = {"campaign_id": campaign_id, "request_id": req["request_id"], "system": mapped["system"],
                       "project_id": mapped["project_id"], "work_items": len(mapped["work_items"]),
                       "template": state["enrich"]["template"],
                       "approval_id": state["policy"]["approval_id"]}  # fmt: skip
            s.events.append("campaign.synced", "campaign", campaign_id, payload, req["actor"])
    created = [] if state["validate"].get("existing") else ["campaign.created"]
    return {"events": [*created, "campaign.synced"]}


_BODIES: dict[str, Callable[[SetupServices, dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "validate": _validate, "policy": _policy, "enrich": _enrich, "choose_system": _choose_system,
    "record_campaign": _record_campaign, "create_project": _create_project, "create_tasks": _create_tasks,
    "assign_people": _assign_people, "store_mappings": _store_mappings, "publish": _publish,
}  # fmt: skip


def _message(exc: Exception) -> str:
    if isinstance(exc, SpineError | ConnectorError):
        fix = f" (fix: {exc.fix})" if exc.fix else ""
        return f"{exc.field or 'request'}: {exc.message}{fix}"
    return f"{type(exc).__name__}: {exc}"


def _run_body(name: str, svc: SetupServices, req: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """One step's body; errors become the two picklable kinds DBOS records (and retries when transient)."""
    if svc.observer is not None:
        svc.observer(name, req["request_id"])
    try:
        result = _BODIES[name](svc, req, state)
    except (RateLimitedError, UpstreamError) as exc:
        raise TransientStepFailure(f"{name}: {_message(exc)}") from None
    except (SpineError, ConnectorError) as exc:
        raise StepFailed(f"{name}: {_message(exc)}") from None
    if svc.observer is not None:  # its effects are committed; DBOS has not recorded the step yet
        svc.observer(f"{name}:done", req["request_id"])
    return result


def _record_error(svc: SetupServices, req: dict[str, Any], step: str, message: str, campaign_id: str | None) -> None:
    with open_store(svc.sessions, req["tenant_id"]) as s:
        s.errors.log(step=step, error_type="campaign_setup", error_message=message, request_id=req["request_id"],
                     campaign_id=campaign_id)  # fmt: skip


def _give_up(svc: SetupServices, req: dict[str, Any], step: str, message: str, state: dict[str, Any]) -> None:
    """Log the failure in the spine's error log (once: it is a recorded step) and end the workflow with it."""
    campaign_id = state.get("record_campaign", {}).get("campaign_id")
    DBOS.run_step({"name": "record_error"}, _record_error, svc, req, step, message, campaign_id)
    raise StepFailed(message)


@DBOS.workflow(name=WORKFLOW_NAME)
def campaign_setup_workflow(request: dict[str, Any]) -> dict[str, Any]:
    """Run every step in order; a recovered run returns the recorded results of the finished ones."""
    svc = _services()
    state: dict[str, Any] = {}
    for name in STEPS:
        options: StepOptions = {"name": name}
        if name in EXTERNAL_STEPS:
            options |= {"retries_allowed": True, "max_attempts": svc.max_attempts, "backoff_rate": 2.0,
                        "interval_seconds": svc.retry_interval_sec,
                        "should_retry": lambda exc: isinstance(exc, TransientStepFailure)}  # fmt: skip
        try:
            state[name] = DBOS.run_step(options, _run_body, name, svc, request, dict(state))
        except dbos_error.DBOSMaxStepRetriesExceeded as exc:
            message = f"{exc.errors[-1] if exc.errors else exc} (gave up after {exc.max_retries} attempts)"
            _give_up(svc, request, name, message, state)
        except dbos_error.DBOSException:
            raise  # DBOS's own control flow (cancellation, timeouts): not a failure of this step
        except Exception as exc:
            message = str(exc) if isinstance(exc, StepFailed | TransientStepFailure) else _message(exc)
            _give_up(svc, request, name, message, state)
    mapped = state["store_mappings"]
    assigned = sorted({a["user_id"] for a in state["assign_people"]["assignments"] if a["external_user"]})
    return {"request_id": request["request_id"], "campaign_id": mapped["campaign_id"], "system": mapped["system"],
            "project_id": mapped["project_id"], "work_items": len(mapped["work_items"]),
            "unassigned": len(state["assign_people"]["unassigned"]), "template": state["enrich"]["template"],
            "assigned": assigned, "existing": bool(request.get("campaign_id"))}  # fmt: skip
