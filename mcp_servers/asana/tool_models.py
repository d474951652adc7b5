"""Strict input models and `{"data": ...}` output envelopes of the Asana MCP tools.

Argument names follow the Asana REST API: path parameters end in `_gid`, body fields keep Asana's names
(workspace, team, assignee, projects, memberships). Validation here is what can be checked without looking
anything up; unknown gids are reported by the backend, naming the same argument.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from connectors.asana.models import (
    COMMENT_MAX,
    CREATION_ONLY_TASK_FIELDS,
    DEFAULT_LIMIT,
    GID_RE,
    LIMIT_MAX,
    NAME_MAX,
    NOTES_MAX,
    NextPage,
    Project,
    Section,
    Story,
    Task,
)
from mcp_servers.asana.spine_sync import SpineLink
from mcp_servers.guard.toolkit import UUID_PATTERN, CreateInput, MultilineText, ToolInput
from mcp_servers.people import AsanaPerson
from spine.text_policy import MULTILINE

GID_PATTERN = r"^[0-9]{1,20}$"


def _gid(value: Any) -> Any:
    # A readable message instead of pydantic's "should match pattern".
    if not isinstance(value, str) or not GID_RE.match(value):
        raise ValueError(f"{value!r} is not an Asana gid: gids are numeric strings of 1-20 digits, e.g. '1204567890'")
    return value


def gid_field(description: str, *, optional: bool = True) -> Any:
    """A gid argument's description; optional ones default to None."""
    return Field(default=None, description=description) if optional else Field(description=description)


Gid = Annotated[str, BeforeValidator(_gid), WithJsonSchema({"type": "string", "pattern": GID_PATTERN, "maxLength": 20})]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, description=f"1-{NAME_MAX} characters.")]
Notes = Annotated[
    str, Field(max_length=NOTES_MAX, description=f"Plain-text description, at most {NOTES_MAX} chars."), MULTILINE
]
DueOn = Annotated[dt.date | None, Field(default=None, description="Due date, ISO 8601 (YYYY-MM-DD).")]
StartOn = Annotated[
    dt.date | None, Field(default=None, description="Start date, ISO 8601 (YYYY-MM-DD); not after due_on.")
]
Limit = Annotated[int, Field(ge=1, le=LIMIT_MAX, description=f"Page size, 1-{LIMIT_MAX}.")]
Offset = Annotated[
    str | None,
    Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Opaque paging token: pass next_page.offset of the previous answer unchanged; omit for the "
        "first page. A token only works for the same query.",
    ),
]


# ---------------------------------------------------------------- inputs


class CreateProjectArgs(CreateInput):
    name: Name
    notes: Notes = ""
    workspace: Gid | None = gid_field("Workspace gid; default: the configured workspace.")
    team: Gid | None = gid_field("Team gid (must be in the workspace); optional.")
    due_on: DueOn = None
    start_on: StartOn = None
    campaign_id: str | None = Field(
        default=None,
        min_length=36,
        max_length=36,
        pattern=UUID_PATTERN,
        description="Canonical campaign id (UUID) of the caller's tenant to link the new project to; the campaign "
        "must not have an Asana project yet.",
    )


class ProjectGidArgs(ToolInput):
    project_gid: Gid = gid_field("Project gid (numeric string).", optional=False)


class ListSectionsArgs(ProjectGidArgs):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = None


class SearchTasksArgs(ToolInput):
    workspace: Gid | None = gid_field("Workspace gid; default: the configured workspace.")
    text: str | None = Field(
        default=None, min_length=1, max_length=NAME_MAX, description="Case-insensitive substring of name or notes."
    )
    completed: bool | None = Field(default=None, description="true: only completed; false: only open; omit: both.")
    assignee: Gid | None = gid_field("Only tasks assigned to this user gid.")
    project: Gid | None = gid_field("Only tasks in this project gid.")
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = None


class TaskGidArgs(ToolInput):
    task_gid: Gid = gid_field("Task gid (numeric string).", optional=False)


class MembershipArg(BaseModel):
    """A project to put a new task in, optionally in one of its sections (default: the first section)."""

    model_config = ConfigDict(extra="forbid")

    project: Gid = gid_field("Project gid.", optional=False)
    section: Gid | None = gid_field("Section gid of that project; default: its first section.")


class SubtaskFields(CreateInput):
    name: Name
    notes: Notes = ""
    assignee: AsanaPerson | None = gid_field(
        "Assignee: a user gid (same workspace) or an MCC user id of your tenant (e.g. 'maya.chen') linked to an "
        "Asana user; omit for unassigned."
    )
    due_on: DueOn = None
    start_on: StartOn = None
    completed: bool = False


class CreateTaskArgs(SubtaskFields):
    workspace: Gid | None = gid_field("Workspace gid; default: the projects' workspace or the configured one.")
    projects: list[Gid] = Field(
        default_factory=list, max_length=20, description="Project gids to add the task to (first section of each)."
    )
    memberships: list[MembershipArg] = Field(
        default_factory=list, max_length=20, description="[{project, section}] placements; a project at most once."
    )


class CreateSubtaskArgs(SubtaskFields):
    parent_gid: Gid = gid_field("Gid of the parent task.", optional=False)


class UpdateTaskArgs(TaskGidArgs):
    """Only the fields given change; `assignee: null` unassigns."""

    name: Name | None = None
    notes: Notes | None = None
    assignee: AsanaPerson | None = gid_field(
        "New assignee: a user gid or an MCC user id of your tenant linked to an Asana user; null unassigns."
    )
    due_on: DueOn = None
    start_on: StartOn = None
    completed: bool | None = Field(default=None, description="true marks it complete, false reopens it.")

    @model_validator(mode="before")
    @classmethod
    def _creation_only(cls, data: Any) -> Any:
        # Refused by name with the right call to use, not as a bare "unknown argument".
        given = [k for k in CREATION_ONLY_TASK_FIELDS if isinstance(data, dict) and k in data]
        if given:
            errors = [
                InitErrorDetails(type=PydanticCustomError("creation_only", CREATION_ONLY_TASK_FIELDS[k]), loc=(k,),
                                 input=data[k])
                for k in given
            ]  # fmt: skip
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


class AddCommentArgs(CreateInput):
    task_gid: Gid = gid_field("Gid of the task to comment on.", optional=False)
    text: MultilineText = Field(
        min_length=1, max_length=COMMENT_MAX, description=f"Comment text, 1-{COMMENT_MAX} chars."
    )


class GetUserTasksArgs(ToolInput):
    user_gid: Gid = gid_field("The assignee's user gid.", optional=False)
    workspace: Gid | None = gid_field("Workspace gid; default: the configured workspace.")
    completed_since: AwareDatetime | None = Field(
        default=None,
        description="ISO 8601 date-time with offset; when given, only open tasks and tasks completed since then.",
    )
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = None


class AddTaskToSectionArgs(ToolInput):
    section_gid: Gid = gid_field("Gid of the target section.", optional=False)
    task_gid: Gid = gid_field("Gid of the task to move.", optional=False)
    insert_before: Gid | None = gid_field("Place it just before this task of the section; not with insert_after.")
    insert_after: Gid | None = gid_field("Place it just after this task of the section; not with insert_before.")


# ---------------------------------------------------------------- outputs (Asana's {"data": ...} envelope)


class _Envelope(BaseModel):
    spine: SpineLink | None = Field(
        default=None, description="Canonical ids this write was recorded under in the campaign spine, if any."
    )


class ProjectResult(_Envelope):
    data: Project


class TaskResult(_Envelope):
    data: Task


class StoryResult(_Envelope):
    data: Story


class EmptyResult(_Envelope):
    data: dict[str, Any] = Field(default_factory=dict, description="Always {} (as Asana answers).")


class TaskPage(BaseModel):
    data: list[Task]
    next_page: NextPage | None = Field(description="{offset, path, uri} of the next page, or null on the last one.")


class SectionPage(BaseModel):
    data: list[Section]
    next_page: NextPage | None = Field(description="{offset, path, uri} of the next page, or null on the last one.")
