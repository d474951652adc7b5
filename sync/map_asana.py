"""Asana tasks and projects -> canonical external changes. Asana's webhook events carry only ids, so the
processor fetches the current resource and orders it by its ``modified_at``; completed/open become
completed/not started (Asana has no other task states), an open task that MCC shows in progress stays so."""

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


def change_from_project(project: Project, fallback_at: dt.datetime) -> ExternalChange:
    """The project as a campaign change (its dates; its name and notes are MCC's and are ignored)."""
    fields: dict[str, Any] = {"name": project.name, "launch_date": project.start_on, "end_date": project.due_on}
    fields = {k: v for k, v in fields.items() if v is not None}
    return ExternalChange("asana", "campaign", project.gid, project.modified_at or fallback_at, fields)
