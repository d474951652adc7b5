"""Argument types and result models shared by the Workfront MCP tools.

Results use plain snake_case names (no Workfront wire aliases) so every server of MCC answers in one style;
dates are ISO 8601 strings on the wire, Workfront IDs 32 lowercase hex characters.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from connectors.workfront.inputs import IsoDate as _IsoDate
from connectors.workfront.models import (
    DESCRIPTION_MAX,
    NAME_MAX,
    Issue,
    Note,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from spine.text_policy import MULTILINE

GUID_PATTERN = r"^[0-9a-f]{32}$"

WfId = Annotated[str, Field(min_length=32, max_length=32, pattern=GUID_PATTERN)]  # field descriptions say "32 hex"
WfDate = Annotated[_IsoDate, Field(description="ISO 8601 date, YYYY-MM-DD.")]
WfName = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
WfDescription = Annotated[str, Field(max_length=DESCRIPTION_MAX), MULTILINE]


def check_after(end: dt.date | None, info: ValidationInfo, start_field: str) -> dt.date | None:
    """Field validator body: ``end`` may not precede the already-validated ``start_field``."""
    start = info.data.get(start_field)
    if end is not None and start is not None and end < start:
        raise ValueError(f"{end.isoformat()} is before {start_field} {start.isoformat()}; give a later date")
    return end


class SpineLink(BaseModel):
    """What the call changed in the MCC campaign spine (all empty when the Workfront object is not linked to a
    campaign: then nothing is written to the spine)."""

    campaign_id: str | None = Field(None, description="Canonical campaign UUID the Workfront object belongs to.")
    work_item_ids: list[str] = Field(default_factory=list, description="Canonical work item UUIDs written.")
    canonical_status: str | None = Field(None, description="Campaign or work item status written, if any.")


class ProjectOut(BaseModel):
    """A Workfront project (PROJ)."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Project ID (32 hex).")
    name: str
    status: ProjectStatus = Field(description="CUR PLN ONH CPL DED REQ APR REJ IDA.")
    status_label: str
    percent_complete: float = Field(description="0-100, rolled up from the tasks (weighted by work required).")
    planned_start_date: dt.date | None
    planned_completion_date: dt.date | None
    portfolio_id: str | None
    template_id: str | None
    owner_id: str | None
    description: str | None
    custom_fields: dict[str, Any] = Field(description="Custom form values by 'DE:<name>'.")

    @classmethod
    def of(cls, p: Project) -> ProjectOut:
        return cls.model_validate({**p.model_dump(), "status_label": p.status.label})


class TaskOut(BaseModel):
    """A Workfront task (TASK)."""

    id: str = Field(description="Task ID (32 hex).")
    project_id: str
    name: str
    status: TaskStatus = Field(description="NEW INP CPL CPA CPI.")
    status_label: str
    assigned_to_id: str | None = Field(description="Workfront user ID of the assignee.")
    planned_start_date: dt.date | None
    planned_completion_date: dt.date | None
    percent_complete: float
    description: str | None
    parent_id: str | None
    work_required: int = Field(description="Planned work in minutes.")

    @classmethod
    def of(cls, t: Task) -> TaskOut:
        return cls.model_validate({**t.model_dump(), "status_label": t.status.label})


class IssueOut(BaseModel):
    """A Workfront issue (OPTASK)."""

    id: str = Field(description="Issue ID (32 hex).")
    project_id: str
    name: str
    status: str = Field(description="NEW INP AWF CLS.")
    description: str | None
    priority: int = Field(description="0 none, 1 low, 2 normal, 3 high, 4 urgent.")
    assigned_to_id: str | None

    @classmethod
    def of(cls, i: Issue) -> IssueOut:
        return cls.model_validate(i.model_dump())


class NoteOut(BaseModel):
    """A Workfront note (update) on a project, task or issue."""

    id: str = Field(description="Note ID (32 hex).")
    obj_code: str = Field(description="PROJ, TASK or OPTASK.")
    obj_id: str
    text: str
    entry_date: dt.datetime | None

    @classmethod
    def of(cls, n: Note) -> NoteOut:
        return cls(id=n.id, obj_code=n.note_obj_code, obj_id=n.obj_id, text=n.note_text, entry_date=n.entry_date)


class CreateProjectOut(BaseModel):
    project: ProjectOut
    tasks: list[TaskOut] = Field(description="Tasks the template created (empty without a template).")
    spine: SpineLink


class ProjectSummaryOut(BaseModel):
    project: ProjectOut
    task_counts: dict[str, int] = Field(description="Number of tasks by status code (every code, zeros included).")
    task_total: int
    campaign_id: str | None = Field(description="Canonical campaign UUID linked to this project, if any.")


class TaskResult(BaseModel):
    task: TaskOut
    spine: SpineLink


class StatusResult(BaseModel):
    obj_type: str = Field(description="'task' or 'project'.")
    project: ProjectOut | None = None
    task: TaskOut | None = None
    spine: SpineLink


class IssueResult(BaseModel):
    issue: IssueOut
    spine: SpineLink


class NoteResult(BaseModel):
    note: NoteOut
    spine: SpineLink


class SearchOut(BaseModel):
    obj_code: str
    first: int = Field(description="$$FIRST of this page.")
    limit: int = Field(description="$$LIMIT of this page.")
    total: int = Field(description="Number of matching objects over all pages.")
    items: list[dict[str, Any]] = Field(description="Requested fields under their Workfront names, ID ascending.")
    next_first: int | None = Field(description="$$FIRST of the next page, or null on the last page.")


class UserCapacityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    name: str
    capacity_hours: float = Field(description="Working days x 8 h.")
    planned_hours: float = Field(description="Open planned work of assigned tasks inside the window, in hours.")
    available_hours: float = Field(description="capacity - planned; negative means overbooked.")


class CapacityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team_id: str
    start_date: dt.date
    end_date: dt.date
    working_days: int = Field(description="Monday-Friday days in the window, both ends inclusive.")
    users: list[UserCapacityOut]
