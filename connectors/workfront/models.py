"""Workfront objects as our tools see them: status codes, object models and result models.

Field aliases are the Workfront wire names (``ID``, ``plannedStartDate``, ``parameterValues``...), so
``model_dump(by_alias=True)`` gives what the Workfront API would show; Python attributes are snake_case.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

GUID_RE = re.compile(r"^[0-9a-f]{32}$")

# Size limits applied by both backends before anything is sent or written.
NAME_MAX = 255
DESCRIPTION_MAX = 4000
NOTE_MAX = 4000
CUSTOM_FIELD_NAME_MAX = 100
CUSTOM_FIELD_VALUE_MAX = 2000
CUSTOM_FIELDS_MAX = 50
IDEMPOTENCY_KEY_MAX = 200
WORK_REQUIRED_MAX = 60 * 24 * 365  # minutes: one calendar year of work on one task
CAPACITY_WINDOW_MAX_DAYS = 366
HOURS_PER_WORKING_DAY = 8


def new_guid() -> str:
    """A fresh Workfront-style ID: 32 lowercase hex characters."""
    return uuid.uuid4().hex


class ProjectStatus(StrEnum):
    """Workfront's default project status codes."""

    CUR = "CUR"
    PLN = "PLN"
    ONH = "ONH"
    CPL = "CPL"
    DED = "DED"
    REQ = "REQ"
    APR = "APR"
    REJ = "REJ"
    IDA = "IDA"

    @property
    def label(self) -> str:
        return _LABELS[("PROJ", self.value)]


class TaskStatus(StrEnum):
    """Workfront's default task status codes."""

    NEW = "NEW"
    INP = "INP"
    CPL = "CPL"
    CPA = "CPA"
    CPI = "CPI"

    @property
    def label(self) -> str:
        return _LABELS[("TASK", self.value)]


class IssueStatus(StrEnum):
    """Workfront's default issue (OPTASK) status codes."""

    NEW = "NEW"
    INP = "INP"
    AWF = "AWF"
    CLS = "CLS"

    @property
    def label(self) -> str:
        return _LABELS[("OPTASK", self.value)]


_LABELS: dict[tuple[str, str], str] = {
    ("PROJ", "CUR"): "Current",
    ("PROJ", "PLN"): "Planning",
    ("PROJ", "ONH"): "On Hold",
    ("PROJ", "CPL"): "Complete",
    ("PROJ", "DED"): "Dead",
    ("PROJ", "REQ"): "Requested",
    ("PROJ", "APR"): "Approved",
    ("PROJ", "REJ"): "Rejected",
    ("PROJ", "IDA"): "Idea",
    ("TASK", "NEW"): "New",
    ("TASK", "INP"): "In Progress",
    ("TASK", "CPL"): "Complete",
    ("TASK", "CPA"): "Complete - Pending Approval",
    ("TASK", "CPI"): "Complete - Pending Issues",
    ("OPTASK", "NEW"): "New",
    ("OPTASK", "INP"): "In Progress",
    ("OPTASK", "AWF"): "Awaiting Feedback",
    ("OPTASK", "CLS"): "Closed",
}

# Task states that carry no remaining planned work (capacity ignores them).
TASK_DONE_CODES = frozenset({TaskStatus.CPL, TaskStatus.CPA, TaskStatus.CPI})


class ObjCode(StrEnum):
    """Workfront object codes this package reads or writes."""

    PROJ = "PROJ"
    TASK = "TASK"
    OPTASK = "OPTASK"
    NOTE = "NOTE"
    USER = "USER"
    TEAMOB = "TEAMOB"
    PORT = "PORT"
    TMPL = "TMPL"


class _WfModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")


class Project(_WfModel):
    """A Workfront project (PROJ)."""

    id: str = Field(alias="ID")
    name: str
    status: ProjectStatus
    percent_complete: float = Field(0.0, alias="percentComplete")
    planned_start_date: date | None = Field(None, alias="plannedStartDate")
    planned_completion_date: date | None = Field(None, alias="plannedCompletionDate")
    portfolio_id: str | None = Field(None, alias="portfolioID")
    template_id: str | None = Field(None, alias="templateID")
    owner_id: str | None = Field(None, alias="ownerID")
    description: str | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict, alias="parameterValues")


class Task(_WfModel):
    """A Workfront task (TASK); ``work_required`` is in minutes, as in Workfront."""

    id: str = Field(alias="ID")
    project_id: str = Field(alias="projectID")
    name: str
    status: TaskStatus
    assigned_to_id: str | None = Field(None, alias="assignedToID")
    planned_start_date: date | None = Field(None, alias="plannedStartDate")
    planned_completion_date: date | None = Field(None, alias="plannedCompletionDate")
    percent_complete: float = Field(0.0, alias="percentComplete")
    description: str | None = None
    parent_id: str | None = Field(None, alias="parentID")
    work_required: int = Field(0, alias="workRequired")


class Issue(_WfModel):
    """A Workfront issue (OPTASK)."""

    id: str = Field(alias="ID")
    project_id: str = Field(alias="projectID")
    name: str
    status: IssueStatus
    description: str | None = None
    priority: int = 2
    assigned_to_id: str | None = Field(None, alias="assignedToID")


class Note(_WfModel):
    """A Workfront note (update) on a project, task or issue."""

    id: str = Field(alias="ID")
    note_obj_code: str = Field(alias="noteObjCode")
    obj_id: str = Field(alias="objID")
    note_text: str = Field(alias="noteText")
    entry_date: datetime | None = Field(None, alias="entryDate")


class User(_WfModel):
    """A Workfront user."""

    id: str = Field(alias="ID")
    name: str
    email_addr: str | None = Field(None, alias="emailAddr")
    home_team_id: str | None = Field(None, alias="homeTeamID")


class Team(_WfModel):
    """A Workfront team (TEAMOB)."""

    id: str = Field(alias="ID")
    name: str


class Portfolio(_WfModel):
    """A Workfront portfolio (PORT)."""

    id: str = Field(alias="ID")
    name: str


class ProjectSummary(_WfModel):
    """A project with its task counts by status code (every task code present, zeros included)."""

    project: Project
    task_counts: dict[str, int]
    task_total: int


class SearchPage(_WfModel):
    """One page of a search: ``items`` hold the requested fields under their Workfront names.

    Results are ordered by ID ascending (Workfront's advice for stable paging); ``next_first`` is the
    ``$$FIRST`` of the next page, or None on the last page.
    """

    obj_code: str
    first: int
    limit: int
    total: int
    items: list[dict[str, Any]]
    next_first: int | None


class UserCapacity(_WfModel):
    """One user's availability in a window; a negative ``available_hours`` means overbooked."""

    user_id: str
    name: str
    capacity_hours: float
    planned_hours: float
    available_hours: float


class TeamCapacity(_WfModel):
    """Availability of every member (by home team) of a team between two dates, both inclusive."""

    team_id: str
    start_date: date
    end_date: date
    working_days: int
    users: list[UserCapacity]


# -- reference data for seeding the sandbox (users, teams, portfolios, templates) --


class TemplateTaskSpec(_WfModel):
    """A task of a template, copied into each project created from it."""

    name: str
    work_required: int = 0
    start_offset_days: int = 0
    duration_days: int = 1


class TemplateSpec(_WfModel):
    id: str
    name: str
    tasks: list[TemplateTaskSpec] = Field(default_factory=list)


class Directory(_WfModel):
    """Reference objects the protocol cannot create (they belong to Workfront administrators)."""

    users: list[User] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    portfolios: list[Portfolio] = Field(default_factory=list)
    templates: list[TemplateSpec] = Field(default_factory=list)
