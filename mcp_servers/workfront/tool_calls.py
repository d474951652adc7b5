"""Small helpers the Workfront tool handlers share: backend errors named after tool arguments, the call
fingerprint behind idempotency records, and reads of one object or of a project's tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from connectors.workfront.backend import WorkfrontBackend
from connectors.workfront.errors import InvalidArgument, NotFound
from connectors.workfront.models import Task
from connectors.workfront.query import MAX_LIMIT
from mcp_servers.guard.guard import CallContext
from mcp_servers.guard.toolkit import ToolFailure, ToolInput
from spine.fingerprint import fingerprint

T = TypeVar("T")


async def wf(awaitable: Awaitable[T], rename: Mapping[str, str] | None = None) -> T:
    """Await a backend call; its InvalidArgument / NotFound name our tool's argument (``rename`` maps the
    backend's field names, e.g. ``changes.plannedStartDate`` -> ``planned_start_date``)."""
    names = rename or {}
    try:
        return await awaitable
    except InvalidArgument as exc:
        field = names.get(exc.field, exc.field)
        raise ToolFailure(f"{field}: {exc.reason}", field=field, fix="correct the value and call again") from None
    except NotFound as exc:
        field = names.get(exc.field, exc.field)
        raise ToolFailure(
            f"{field}: no {exc.obj_code} with ID {exc.obj_id!r} exists",
            field=field,
            fix="search for the object first (search tool) to get its ID",
            code="not_found",
        ) from None


def call_fingerprint(call: CallContext, args: ToolInput) -> str:
    """SHA-256 of (server, tool, canonical arguments without control fields, caller): binds a key to one call."""
    data = args.business_arguments()
    return fingerprint(call.server, call.tool, data, call.principal.user_id)


async def fetch_one(backend: WorkfrontBackend, obj_code: str, obj_id: str) -> dict[str, Any]:
    """One object's fields (Workfront names) by ID, or ToolFailure when it no longer exists."""
    page = await backend.search(obj_code, {"ID": obj_id}, limit=1)
    if not page.items:
        raise ToolFailure(
            f"{obj_code} {obj_id} recorded for this idempotency_key no longer exists in Workfront",
            field="idempotency_key",
            fix="use a new idempotency_key to create it again",
            code="not_found",
        )
    return page.items[0]


async def project_tasks(backend: WorkfrontBackend, project_id: str) -> list[Task]:
    """Every task of a project, ID ascending (pages through ``$$FIRST``)."""
    tasks: list[Task] = []
    first: int | None = 0
    while first is not None:
        page = await backend.search("TASK", {"projectID": project_id}, limit=MAX_LIMIT, first=first)
        tasks.extend(Task.model_validate(item) for item in page.items)
        first = page.next_first
    return tasks
