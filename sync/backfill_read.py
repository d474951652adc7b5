"""Read what a team already has in Workfront or Asana, through the REST clients, as neutral project records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.asana.client import AsanaRestClient
from connectors.workfront.client import WorkfrontRestClient
from connectors.workfront.mapping import work_item_status_for

ASANA_PAGE = 100  # Asana's largest page
ID_CHUNK = 50  # project IDs per task query: far below Workfront's URI limit
PROJECT_FIELDS = ("name", "description", "status", "plannedStartDate", "plannedCompletionDate", "ownerID", "extRefID")
TASK_FIELDS = ("name", "projectID", "status", "assignedToID", "plannedStartDate", "plannedCompletionDate",
               "percentComplete", "parentID")  # fmt: skip

Progress = Callable[[str, int], None]  # (what, how many more) -> None


@dataclass(frozen=True, slots=True)
class ExternalTask:
    """A task as the spine will mirror it (canonical status; external assignee id)."""

    id: str
    name: str
    status: str
    assignee: str | None
    start: dt.date | None
    end: dt.date | None
    percent: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status, "assignee": self.assignee,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None, "percent": self.percent}  # fmt: skip


@dataclass
class ExternalProject:
    """One project of an external system, with its tasks."""

    system: str
    id: str
    name: str
    start: dt.date | None
    end: dt.date | None
    owner: str | None
    ext_ref: str | None
    tasks: list[ExternalTask] = field(default_factory=list)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


async def read_workfront(
    client: WorkfrontRestClient, since: dt.date | None = None, progress: Progress | None = None
) -> list[ExternalProject]:
    """Every project (changed on or after ``since``) with its tasks, paged with ``$$LIMIT``/``$$FIRST``."""
    tick = progress or (lambda _what, _n: None)
    filters = [] if since is None else [("lastUpdateDate", since.isoformat()), ("lastUpdateDate_Mod", "gte")]
    projects: dict[str, ExternalProject] = {}
    async for page in client.iter_all("PROJ", filters, PROJECT_FIELDS):
        for p in page:
            projects[p["ID"]] = ExternalProject(
                "workfront", p["ID"], str(p.get("name") or p["ID"]), _date(p.get("plannedStartDate")),
                _date(p.get("plannedCompletionDate")), p.get("ownerID"), p.get("extRefID") or None,
            )  # fmt: skip
        tick("projects", len(page))
    ids = list(projects)
    for i in range(0, len(ids), ID_CHUNK):
        chunk = ids[i : i + ID_CHUNK]
        task_filters = [*(("projectID", pid) for pid in chunk), ("projectID_Mod", "in")]
        async for page in client.iter_all("TASK", task_filters, TASK_FIELDS):
            for t in page:
                project = projects.get(t.get("projectID") or "")
                if project is None:
                    continue
                try:
                    status = work_item_status_for(str(t.get("status") or "NEW"))
                except ValueError:
                    status = "not_started"  # an unknown custom status is not a reason to drop the task
                project.tasks.append(ExternalTask(
                    t["ID"], str(t.get("name") or t["ID"])[:500], status, t.get("assignedToID"),
                    _date(t.get("plannedStartDate")), _date(t.get("plannedCompletionDate")),
                    max(0, min(100, round(float(t.get("percentComplete") or 0)))),
                ))  # fmt: skip
            tick("tasks", len(page))
    return list(projects.values())


async def read_asana(
    client: AsanaRestClient,
    workspace: str | None = None,
    since: dt.date | None = None,
    progress: Progress | None = None,
) -> list[ExternalProject]:
    """Every unarchived project of the workspace (default: the client's) modified on or after ``since``, with its
    tasks. Asana has only completion: completed -> "completed" (100 %), otherwise "not_started" (0 %)."""
    tick = progress or (lambda _what, _n: None)
    projects: list[ExternalProject] = []
    offset: str | None = None
    while True:
        page = await client.list_projects(workspace=workspace, limit=ASANA_PAGE, offset=offset)
        for p in page.data:
            changed = _date(p.modified_at)
            if p.archived or (since is not None and changed is not None and changed < since):
                continue
            projects.append(ExternalProject("asana", p.gid, p.name or p.gid, p.start_on, p.due_on, None, None))
        tick("projects", len(page.data))
        if page.next_page is None:
            break
        offset = page.next_page.offset
    for project in projects:
        offset = None
        while True:
            tasks = await client.list_project_tasks(project.id, limit=ASANA_PAGE, offset=offset)
            for t in tasks.data:
                project.tasks.append(ExternalTask(
                    t.gid, (t.name or t.gid)[:500], "completed" if t.completed else "not_started",
                    t.assignee.gid if t.assignee else None, t.start_on, t.due_on, 100 if t.completed else 0,
                ))  # fmt: skip
            tick("tasks", len(tasks.data))
            if tasks.next_page is None:
                break
            offset = tasks.next_page.offset
    return projects
