"""Tables of the embedded Workfront sandbox: its own SQLAlchemy metadata in its own SQLite file.

Deliberately not the spine's declarative base: the sandbox stands in for an external system and must
never share a schema, migrations or a transaction with our canonical store.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class SandboxBase(DeclarativeBase):
    """Declarative base owning the sandbox metadata (separate from ``spine.db``)."""


class UserRow(SandboxBase):
    __tablename__ = "wf_user"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email_addr: Mapped[str | None] = mapped_column(String(255))
    home_team_id: Mapped[str | None] = mapped_column(String(32), index=True)


class TeamRow(SandboxBase):
    __tablename__ = "wf_team"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class PortfolioRow(SandboxBase):
    __tablename__ = "wf_portfolio"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class TemplateRow(SandboxBase):
    __tablename__ = "wf_template"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class TemplateTaskRow(SandboxBase):
    __tablename__ = "wf_template_task"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("wf_template.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    work_required: Mapped[int] = mapped_column(Integer, default=0)
    start_offset_days: Mapped[int] = mapped_column(Integer, default=0)
    duration_days: Mapped[int] = mapped_column(Integer, default=1)


class ProjectRow(SandboxBase):
    __tablename__ = "wf_project"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(8))
    percent_complete: Mapped[float] = mapped_column(Float, default=0.0)
    planned_start_date: Mapped[date | None] = mapped_column(Date)
    planned_completion_date: Mapped[date | None] = mapped_column(Date)
    portfolio_id: Mapped[str | None] = mapped_column(String(32), index=True)
    template_id: Mapped[str | None] = mapped_column(String(32))
    owner_id: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)


class TaskRow(SandboxBase):
    __tablename__ = "wf_task"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("wf_project.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(8))
    assigned_to_id: Mapped[str | None] = mapped_column(String(32), index=True)
    planned_start_date: Mapped[date | None] = mapped_column(Date)
    planned_completion_date: Mapped[date | None] = mapped_column(Date)
    percent_complete: Mapped[float] = mapped_column(Float, default=0.0)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[str | None] = mapped_column(String(32))
    work_required: Mapped[int] = mapped_column(Integer, default=0)


class IssueRow(SandboxBase):
    __tablename__ = "wf_issue"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("wf_project.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    assigned_to_id: Mapped[str | None] = mapped_column(String(32))


class NoteRow(SandboxBase):
    __tablename__ = "wf_note"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    note_obj_code: Mapped[str] = mapped_column(String(8))
    obj_id: Mapped[str] = mapped_column(String(32), index=True)
    note_text: Mapped[str] = mapped_column(Text)
    entry_date: Mapped[datetime] = mapped_column(DateTime)  # naive UTC (SQLite keeps no offset)


class ParamValueRow(SandboxBase):
    """A custom-field value (``DE:`` name) of a project: JSON for reading, text for filtering."""

    __tablename__ = "wf_param_value"
    obj_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(110), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    value_text: Mapped[str | None] = mapped_column(Text)


class IdempotencyRow(SandboxBase):
    """Idempotency key -> the object a create call made, with a fingerprint of its arguments."""

    __tablename__ = "wf_idempotency"
    key: Mapped[str] = mapped_column(String(210), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    obj_code: Mapped[str] = mapped_column(String(8))
    obj_id: Mapped[str] = mapped_column(String(32))


# Which row class and column holds each searchable Workfront field.
ROWS: dict[str, type[SandboxBase]] = {
    "PROJ": ProjectRow,
    "TASK": TaskRow,
    "OPTASK": IssueRow,
    "NOTE": NoteRow,
    "USER": UserRow,
    "TEAMOB": TeamRow,
    "PORT": PortfolioRow,
    "TMPL": TemplateRow,
}
COLUMNS: dict[str, str] = {
    "ID": "id",
    "name": "name",
    "description": "description",
    "status": "status",
    "percentComplete": "percent_complete",
    "plannedStartDate": "planned_start_date",
    "plannedCompletionDate": "planned_completion_date",
    "portfolioID": "portfolio_id",
    "templateID": "template_id",
    "ownerID": "owner_id",
    "projectID": "project_id",
    "assignedToID": "assigned_to_id",
    "parentID": "parent_id",
    "workRequired": "work_required",
    "priority": "priority",
    "noteText": "note_text",
    "noteObjCode": "note_obj_code",
    "objID": "obj_id",
    "entryDate": "entry_date",
    "emailAddr": "email_addr",
    "homeTeamID": "home_team_id",
}
