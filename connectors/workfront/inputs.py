"""Validation of every backend call's arguments, shared by the sandbox and the REST client.

Both backends validate with these models before any I/O, so bad input fails the same way everywhere
(an ``InvalidArgument`` naming the argument) and nothing is ever written or sent.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from connectors.workfront.errors import InvalidArgument
from connectors.workfront.models import (
    CAPACITY_WINDOW_MAX_DAYS,
    CUSTOM_FIELD_NAME_MAX,
    CUSTOM_FIELD_VALUE_MAX,
    CUSTOM_FIELDS_MAX,
    DESCRIPTION_MAX,
    GUID_RE,
    IDEMPOTENCY_KEY_MAX,
    NAME_MAX,
    NOTE_MAX,
    WORK_REQUIRED_MAX,
    ProjectStatus,
    TaskStatus,
)

M = TypeVar("M", bound=BaseModel)


def check_guid(value: object, field: str) -> str:
    """Return ``value`` as a Workfront ID or raise InvalidArgument naming ``field``."""
    if not isinstance(value, str) or not GUID_RE.fullmatch(value):
        raise InvalidArgument(field, f"{value!r} is not a Workfront ID (32 lowercase hex characters)")
    return value


def _guid(value: str) -> str:
    if not GUID_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a Workfront ID (32 lowercase hex characters)")
    return value


def _iso_date(value: object) -> object:
    # Only real dates or YYYY-MM-DD strings: a datetime or an epoch number is a caller mistake.
    if isinstance(value, datetime):
        raise ValueError("give a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real calendar date") from exc
    raise ValueError(f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)")


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Guid = Annotated[str, AfterValidator(_guid)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(_non_blank)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX)]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=IDEMPOTENCY_KEY_MAX)]


def _custom_value(value: Any) -> Any:
    # One validator instead of a Union, so an error's location is just the custom field's name.
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValueError("a custom field value must be text, a number, true/false, null or a list of text")
        if isinstance(item, str) and len(item) > CUSTOM_FIELD_VALUE_MAX:
            raise ValueError(f"at most {CUSTOM_FIELD_VALUE_MAX} characters")
    return value


CustomValue = Annotated[Any, AfterValidator(_custom_value)]


def _custom_fields(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > CUSTOM_FIELDS_MAX:
        raise ValueError(f"at most {CUSTOM_FIELDS_MAX} custom fields per call")
    for key in value:
        if not key.startswith("DE:") or not 3 < len(key) <= CUSTOM_FIELD_NAME_MAX + 3:
            raise ValueError(
                f"custom field name {key!r} must be 'DE:' followed by 1-{CUSTOM_FIELD_NAME_MAX} characters"
            )
    return value


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectCreate(_Input):
    name: Name
    template_id: Guid | None = None
    planned_start_date: IsoDate | None = None
    planned_completion_date: IsoDate | None = None
    portfolio_id: Guid | None = None
    owner_id: Guid | None = None
    description: Description | None = None
    custom_fields: Annotated[dict[str, CustomValue], AfterValidator(_custom_fields)] = Field(default_factory=dict)
    idempotency_key: IdempotencyKey | None = None


class TaskCreate(_Input):
    project_id: Guid
    name: Name
    assigned_to_id: Guid | None = None
    planned_start_date: IsoDate | None = None
    planned_completion_date: IsoDate | None = None
    description: Description | None = None
    parent_id: Guid | None = None
    work_required: Annotated[int, Field(ge=0, le=WORK_REQUIRED_MAX)] = 0
    idempotency_key: IdempotencyKey | None = None


class TaskChanges(_Input):
    """Fields ``update_task`` may change, by Workfront name (snake_case accepted too).

    Status and assignee are deliberately absent: they have their own calls (``update_status``,
    ``assign_resource``) so policy can treat them separately.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Name | None = None
    description: Description | None = None
    planned_start_date: IsoDate | None = Field(None, alias="plannedStartDate")
    planned_completion_date: IsoDate | None = Field(None, alias="plannedCompletionDate")
    percent_complete: Annotated[float, Field(ge=0, le=100)] | None = Field(None, alias="percentComplete")
    work_required: Annotated[int, Field(ge=0, le=WORK_REQUIRED_MAX)] | None = Field(None, alias="workRequired")

    def wire(self) -> dict[str, Any]:
        """The changes given, under their Workfront names, dates as ISO strings."""
        out = self.model_dump(by_alias=True, exclude_unset=True, mode="json")
        return out


class ProjectChanges(_Input):
    """Fields ``update_project`` may change (the ones MCC owns and sends out), by Workfront name or snake_case.

    Status is absent on purpose: the execution system owns it (``update_status`` is its own call)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: Name | None = None
    description: Description | None = None
    planned_start_date: IsoDate | None = Field(None, alias="plannedStartDate")
    planned_completion_date: IsoDate | None = Field(None, alias="plannedCompletionDate")
    custom_fields: Annotated[dict[str, CustomValue], AfterValidator(_custom_fields)] = Field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The changes given, under their Workfront names (custom fields as ``DE:`` keys), dates as ISO strings."""
        out = self.model_dump(by_alias=True, exclude_unset=True, exclude={"custom_fields"}, mode="json")
        out.update(self.custom_fields)
        return out


class IssueCreate(_Input):
    project_id: Guid
    name: Name
    description: Description | None = None
    priority: Annotated[int, Field(ge=0, le=4)] = 2
    assigned_to_id: Guid | None = None
    idempotency_key: IdempotencyKey | None = None


class NoteCreate(_Input):
    obj_code: Literal["PROJ", "TASK", "OPTASK"]
    obj_id: Guid
    text: Annotated[str, StringConstraints(min_length=1, max_length=NOTE_MAX), AfterValidator(_non_blank)]
    idempotency_key: IdempotencyKey | None = None


class CapacityQuery(_Input):
    team_id: Guid
    start_date: IsoDate
    end_date: IsoDate


_FORBIDDEN_CHANGE_HINTS = {
    "status": "change status with update_status",
    "assignedToID": "assign with assign_resource",
    "assigned_to_id": "assign with assign_resource",
    "ID": "an object's ID cannot change",
    "projectID": "a task cannot move to another project here",
}


def parse(model: type[M], prefix: str = "", /, **values: Any) -> M:
    """Validate ``values`` into ``model``; the first problem becomes an InvalidArgument naming the field."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"]) or "arguments"
        field = f"{prefix}{loc}"
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            hint = _FORBIDDEN_CHANGE_HINTS.get(key)
            allowed = sorted((f.alias or name) for name, f in model.model_fields.items() if name != "idempotency_key")
            message = f"unknown field; {hint}" if hint else f"unknown field; allowed: {', '.join(allowed)}"
            raise InvalidArgument(field, message) from None
        message = str(err["msg"]).removeprefix("Value error, ")
        raise InvalidArgument(field, message) from None


def parse_changes(changes: object) -> TaskChanges:
    """Validate ``update_task`` changes (a mapping of Workfront field names to new values)."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidArgument("changes", "give at least one field to change, e.g. {'name': 'New name'}")
    return parse(TaskChanges, "changes.", **changes)


def check_date_order(start: date | None, end: date | None, field: str) -> None:
    """Raise InvalidArgument on ``field`` when the completion date is before the start date."""
    if start is not None and end is not None and end < start:
        raise InvalidArgument(field, f"{end.isoformat()} is before the start date {start.isoformat()}")


def check_capacity_window(query: CapacityQuery) -> None:
    check_date_order(query.start_date, query.end_date, "end_date")
    if (query.end_date - query.start_date).days + 1 > CAPACITY_WINDOW_MAX_DAYS:
        raise InvalidArgument("end_date", f"the window may span at most {CAPACITY_WINDOW_MAX_DAYS} days")


def check_status(obj_type: object, status: object) -> tuple[str, str]:
    """Validate ``update_status`` arguments; returns (objCode, status code)."""
    if obj_type not in ("task", "project"):
        raise InvalidArgument("obj_type", f"{obj_type!r} is not 'task' or 'project'")
    enum: type[TaskStatus] | type[ProjectStatus] = TaskStatus if obj_type == "task" else ProjectStatus
    codes = [c.value for c in enum]
    if status not in codes:
        listed = ", ".join(f"{c.value} ({c.label})" for c in enum)
        raise InvalidArgument("status", f"{status!r} is not a {obj_type} status code; use one of {listed}")
    return ("TASK" if obj_type == "task" else "PROJ", str(status))
