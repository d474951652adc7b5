"""Pydantic models of the Asana resources we use, their input shapes and the validation shared by backends.

Asana does not publish exact text limits; we enforce our own documented ones (NAME_MAX, NOTES_MAX,
COMMENT_MAX) before anything is sent or written, so both backends reject oversize text identically.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from connectors.asana.errors import InvalidArgument

NAME_MAX = 1024
NOTES_MAX = 65_535
COMMENT_MAX = 65_535
LIMIT_MAX = 100
DEFAULT_LIMIT = 50
GID_RE = re.compile(r"^[0-9]{1,20}$")

Gid = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX)]
Notes = Annotated[str, StringConstraints(max_length=NOTES_MAX)]

T = TypeVar("T")

# Fields that only task creation may set; update_task names them and points at the right call.
CREATION_ONLY_TASK_FIELDS = {
    "memberships": "memberships can only be set when the task is created; use add_task_to_section to move it",
    "projects": "projects can only be set when the task is created; use add_task_to_section to add it",
    "parent": "parent can only be set when the subtask is created (create_subtask)",
    "workspace": "workspace is fixed when the task is created",
}


# ---------------------------------------------------------------- outputs (tolerant of new API fields)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Compact(_Out):
    """A reference to another object: its gid and, when known, its name."""

    gid: str
    name: str | None = None


class User(_Out):
    gid: str
    name: str
    email: str | None = None


class Section(_Out):
    gid: str
    name: str
    project: Compact | None = None
    created_at: dt.datetime | None = None


class Membership(_Out):
    project: Compact
    section: Compact | None = None


class Project(_Out):
    gid: str
    name: str
    notes: str = ""
    archived: bool = False
    workspace: Compact | None = None
    team: Compact | None = None
    due_on: dt.date | None = None
    start_on: dt.date | None = None
    current_status: dict[str, Any] | None = None
    current_status_update: dict[str, Any] | None = None  # {gid, title, status_type: on_track|...|complete}
    completed: bool = False
    completed_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None


class Task(_Out):
    gid: str
    name: str
    notes: str = ""
    completed: bool = False
    completed_at: dt.datetime | None = None
    assignee: Compact | None = None
    due_on: dt.date | None = None
    start_on: dt.date | None = None
    projects: list[Compact] = Field(default_factory=list)
    memberships: list[Membership] = Field(default_factory=list)
    parent: Compact | None = None
    num_subtasks: int = 0
    workspace: Compact | None = None
    custom_fields: list[dict[str, Any]] = Field(default_factory=list)
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None


class Story(_Out):
    gid: str
    text: str
    type: str = "comment"
    resource_subtype: str = "comment_added"
    created_at: dt.datetime | None = None
    created_by: Compact | None = None
    target: Compact | None = None


class NextPage(_Out):
    offset: str
    path: str
    uri: str


class Page(BaseModel, Generic[T]):
    """One page of results; pass `next_page.offset` back as `offset` until `next_page` is None."""

    data: list[T]
    next_page: NextPage | None = None


# ---------------------------------------------------------------- inputs (strict: unknown fields rejected)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectCreate(_In):
    name: Name
    workspace: Gid | None = None
    team: Gid | None = None
    notes: Notes = ""
    due_on: dt.date | None = None
    start_on: dt.date | None = None


class MembershipInput(_In):
    project: Gid
    section: Gid | None = None


class SubtaskCreate(_In):
    name: Name
    notes: Notes = ""
    assignee: Gid | None = None
    due_on: dt.date | None = None
    start_on: dt.date | None = None
    completed: bool = False


class TaskCreate(SubtaskCreate):
    workspace: Gid | None = None
    projects: list[Gid] = Field(default_factory=list)
    memberships: list[MembershipInput] = Field(default_factory=list)


class TaskUpdate(_In):
    """Only the fields present are changed; `assignee: None` unassigns."""

    name: Name | None = None
    notes: Notes | None = None
    assignee: Gid | None = None
    due_on: dt.date | None = None
    start_on: dt.date | None = None
    completed: bool | None = None


class ProjectUpdate(_In):
    """Project fields MCC owns and sends out; only the fields present are changed."""

    name: Name | None = None
    notes: Notes | None = None
    due_on: dt.date | None = None
    start_on: dt.date | None = None


M = TypeVar("M", bound=BaseModel)


def parse_input(model: type[M], data: M | Mapping[str, Any]) -> M:
    """Validate input into `model`, turning the first pydantic error into InvalidArgument naming the field."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise InvalidArgument("data", f"expected an object of {model.__name__} fields")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        field = loc[0] if loc else "data"
        where = ".".join(loc)
        msg = "unknown field; remove it" if err["type"] == "extra_forbidden" else err["msg"]
        raise InvalidArgument(field, f"{where}: {msg}") from None


def parse_update(changes: TaskUpdate | Mapping[str, Any]) -> TaskUpdate:
    """Validate task changes; creation-only fields (memberships, projects, ...) are named and refused."""
    if isinstance(changes, Mapping):
        for key, why in CREATION_ONLY_TASK_FIELDS.items():
            if key in changes:
                raise InvalidArgument(key, why)
    upd = parse_input(TaskUpdate, changes)
    if not upd.model_fields_set:
        raise InvalidArgument(
            "changes", "no fields to change; give at least one of " + ", ".join(TaskUpdate.model_fields)
        )
    for key in ("name", "notes", "completed"):
        if key in upd.model_fields_set and getattr(upd, key) is None:
            raise InvalidArgument(key, f"{key} cannot be null")
    return upd


def check_gid(value: object, field: str) -> str:
    """Return `value` if it is a numeric-string gid, else raise InvalidArgument naming `field`."""
    if not isinstance(value, str) or not GID_RE.match(value):
        raise InvalidArgument(field, f"{value!r} is not an Asana gid (a string of 1-20 digits)")
    return value


def check_limit(limit: int) -> int:
    """Asana pages hold 1-100 items."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIMIT_MAX:
        raise InvalidArgument("limit", f"limit must be an integer between 1 and {LIMIT_MAX}, got {limit!r}")
    return limit


def check_text(value: object, field: str, max_len: int, *, required: bool = True) -> str:
    """Validate a free-text argument's type and length."""
    if not isinstance(value, str):
        raise InvalidArgument(field, "must be a string")
    if required and not value.strip():
        raise InvalidArgument(field, "must not be empty")
    if len(value) > max_len:
        raise InvalidArgument(field, f"is {len(value)} characters; the limit is {max_len}")
    return value


def check_dates(start_on: dt.date | None, due_on: dt.date | None, *, blame: str = "start_on") -> None:
    """A start date after the due date is refused, naming `blame`."""
    if start_on is not None and due_on is not None and start_on > due_on:
        raise InvalidArgument(blame, f"start_on {start_on} is after due_on {due_on}; start must not follow due")


def update_date_blame(upd: TaskUpdate) -> str:
    """Name the date field the caller changed when the merged dates are out of order."""
    return "start_on" if "start_on" in upd.model_fields_set else "due_on"


def check_idempotency_key(key: object) -> str:
    """Idempotency keys are 1-255 character strings."""
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        raise InvalidArgument("idempotency_key", "must be a string of 1-255 characters")
    return key


def fingerprint(op: str, args: Any) -> str:
    """SHA-256 of an operation and its validated arguments: equal calls, equal fingerprints."""

    def enc(v: Any) -> Any:
        if isinstance(v, BaseModel):
            return v.model_dump(mode="json")
        return [enc(x) for x in v] if isinstance(v, list | tuple) else v

    return hashlib.sha256(json.dumps([op, enc(args)], sort_keys=True, default=str).encode()).hexdigest()
