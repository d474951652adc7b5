"""Asana tasks and projects -> canonical external changes. Asana's webhook events carry only ids, so the
processor fetches the current resource and orders it by its ``modified_at``; completed/open become
completed/not started (Asana has no other task states), an open task that MCC shows in progress stays so.
A project's completion and latest status update become the campaign's status (``project_status``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.asana.models import Project, Task
from sync.changes import ExternalChange


def change_from_task(task: Task, current_status: str | None, fallback_at: dt.datetime) -> ExternalChange:
    """The task as a work-item change; ``current_status`` is the spine's (None for a new item)."""
    fields: dict[str, Any] = {"name": task.name, "description": task.notes or None,
                              "planned_start_date": task.start_on, "planned_end_date": task.due_on}  # fmt: skip
    if task.completed:
        fields["status"] = "completed"
    elif current_status in (None, "completed"):
        fields["status"] = "not_started"
    project = task.projects[0].gid if task.projects else None
    if project is None and task.memberships:
        first = task.memberships[0]
        project = first.project.gid if getattr(first, "project", None) is not None else None
    return ExternalChange(
        "asana", "work_item", task.gid, task.modified_at or fallback_at, fields, "upsert",
        project_external_id=project, assignee_external=task.assignee.gid if task.assignee else "",
        parent_external=task.parent.gid if task.parent else "",
    )  # fmt: skip


def deleted_task(gid: str, at: dt.datetime) -> ExternalChange:
    """A task Asana reports deleted (or that no longer exists)."""
    return ExternalChange("asana", "work_item", gid, at, {}, "delete")


# Asana project status update types -> canonical campaign status. The active ones (on_track, at_risk, off_track)
# say only "running": they do not tell planning from approved from launched, so they are mapped only to bring back a
# campaign MCC shows as on hold or completed (see project_status).
_ON_HOLD, _DONE = "on_hold", "complete"
_ACTIVE = {"on_track", "at_risk", "off_track"}


def project_status(project: Project, current_status: str | None) -> str | None:
    """The canonical campaign status the project states, or None when it says nothing MCC does not already know.
    The matrix gives campaign status to the execution system, so Asana's word is taken for an Asana-run campaign."""
    kind = (project.current_status_update or {}).get("status_type")
    if project.completed or kind == _DONE:
        return "completed"
    if kind == _ON_HOLD:
        return "on_hold"
    if kind in _ACTIVE and current_status in ("on_hold", "completed"):
        return "in_progress"  # taken off hold or reopened in Asana
    return None


def change_from_project(
    project: Project, fallback_at: dt.datetime, current_status: str | None = None
) -> ExternalChange:
    """The project as a campaign change: its dates and its status (``project_status``; ``current_status`` is the
    campaign's in the spine); its name and notes are MCC's and are ignored."""
    fields: dict[str, Any] = {"name": project.name, "launch_date": project.start_on, "end_date": project.due_on,
                              "status": project_status(project, current_status)}  # fmt: skip
    fields = {k: v for k, v in fields.items() if v is not None}
    return ExternalChange("asana", "campaign", project.gid, project.modified_at or fallback_at, fields)
