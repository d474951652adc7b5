"""Sandbox rows -> the protocol's models, and the argument fingerprint behind idempotency keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from connectors.workfront.models import Issue, Note, Project, Task
from connectors.workfront.sandbox_schema import IssueRow, NoteRow, ProjectRow, TaskRow


def project_model(row: ProjectRow, params: Mapping[str, Any]) -> Project:
    return Project(
        ID=row.id,
        name=row.name,
        status=row.status,
        percentComplete=row.percent_complete,
        plannedStartDate=row.planned_start_date,
        plannedCompletionDate=row.planned_completion_date,
        portfolioID=row.portfolio_id,
        templateID=row.template_id,
        ownerID=row.owner_id,
        description=row.description,
        parameterValues=dict(sorted(params.items())),
    )


def task_model(row: TaskRow) -> Task:
    return Task(
        ID=row.id,
        projectID=row.project_id,
        name=row.name,
        status=row.status,
        assignedToID=row.assigned_to_id,
        plannedStartDate=row.planned_start_date,
        plannedCompletionDate=row.planned_completion_date,
        percentComplete=row.percent_complete,
        description=row.description,
        parentID=row.parent_id,
        workRequired=row.work_required,
    )


def issue_model(row: IssueRow) -> Issue:
    return Issue(
        ID=row.id,
        projectID=row.project_id,
        name=row.name,
        status=row.status,
        description=row.description,
        priority=row.priority,
        assignedToID=row.assigned_to_id,
    )


def note_model(row: NoteRow) -> Note:
    return Note(
        ID=row.id,
        noteObjCode=row.note_obj_code,
        objID=row.obj_id,
        noteText=row.note_text,
        entryDate=row.entry_date.replace(tzinfo=UTC),
    )


def fingerprint(operation: str, args: Any) -> str:
    body = json.dumps([operation, args.model_dump(mode="json", exclude={"idempotency_key"})], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()
