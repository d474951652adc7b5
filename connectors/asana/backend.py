"""The one async interface both Asana backends (REST client and embedded sandbox) implement.

Switching backend changes no tool: every method takes the same arguments, returns the same models and
raises the same `AsanaError` subclasses (re-exported here). Unknown ids raise NotFound naming the argument;
malformed ids, oversize text, unknown fields, out-of-order dates and creation-only fields on update raise
InvalidArgument naming the argument, before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from connectors.asana.custom_fields import ProjectFieldsSource
from connectors.asana.errors import (
    AsanaError,
    Forbidden,
    InvalidArgument,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
)
from connectors.asana.models import (
    Page,
    Project,
    ProjectCreate,
    ProjectUpdate,
    Section,
    Story,
    SubtaskCreate,
    Task,
    TaskCreate,
    TaskUpdate,
    User,
)

__all__ = [
    "AsanaBackend",
    "AsanaError",
    "Forbidden",
    "InvalidArgument",
    "NotFound",
    "RateLimited",
    "ServerError",
    "Unauthorized",
]


@runtime_checkable
class AsanaBackend(Protocol):
    """Asana operations the MCP tools need. `idempotency_key`: a repeat with the same key and the same
    arguments returns the first result; the same key with other arguments is InvalidArgument."""

    async def create_project(
        self, data: ProjectCreate | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Project:
        """Create a project (name, workspace?, team?, notes, due_on, start_on) with one default section."""
        ...

    async def get_project(self, project_gid: str) -> Project:
        """Fetch one project."""
        ...

    async def update_project(self, project_gid: str, changes: ProjectUpdate | Mapping[str, Any]) -> Project:
        """Set a project's name, notes, start_on and due_on (only the fields given)."""
        ...

    async def create_section(self, project_gid: str, name: str, *, idempotency_key: str | None = None) -> Section:
        """Add a section at the end of a project."""
        ...

    async def list_sections(self, project_gid: str, *, limit: int = 50, offset: str | None = None) -> Page[Section]:
        """A project's sections in board order."""
        ...

    async def search_tasks(
        self,
        *,
        workspace: str | None = None,
        text: str | None = None,
        completed: bool | None = None,
        assignee: str | None = None,
        project: str | None = None,
        limit: int = 50,
        offset: str | None = None,
    ) -> Page[Task]:
        """Tasks of a workspace matching all given filters (text: case-insensitive in name or notes),
        oldest first."""
        ...

    async def get_task(self, task_gid: str) -> Task:
        """Fetch one task."""
        ...

    async def create_task(self, data: TaskCreate | Mapping[str, Any], *, idempotency_key: str | None = None) -> Task:
        """Create a task; `projects` / `memberships` (project + section) can be set only here."""
        ...

    async def create_subtask(
        self,
        parent_gid: str,
        data: SubtaskCreate | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Task:
        """Create a subtask under `parent_gid` (same workspace, no projects)."""
        ...

    async def update_task(self, task_gid: str, changes: TaskUpdate | Mapping[str, Any]) -> Task:
        """Change name, notes, assignee, due_on, start_on, completed. memberships/projects/parent are
        refused (InvalidArgument naming the field): use add_task_to_section."""
        ...

    async def add_comment(self, task_gid: str, text: str, *, idempotency_key: str | None = None) -> Story:
        """Add a comment story to a task."""
        ...

    async def get_user_tasks(
        self,
        user_gid: str,
        *,
        workspace: str | None = None,
        completed_since: dt.datetime | None = None,
        limit: int = 50,
        offset: str | None = None,
    ) -> Page[Task]:
        """Tasks assigned to a user; with `completed_since`, only incomplete ones or completed since then."""
        ...

    async def list_users(
        self, *, workspace: str | None = None, limit: int = 50, offset: str | None = None
    ) -> Page[User]:
        """The users of a workspace (gid, name, email when visible), by gid; paged like list_sections."""
        ...

    async def add_task_to_section(
        self,
        section_gid: str,
        task_gid: str,
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
    ) -> None:
        """Move a task into a section (adding it to that section's project if needed); top unless
        insert_before / insert_after (a task already in the section) is given, never both."""
        ...

    def project_fields(self) -> ProjectFieldsSource:
        """Projects' custom fields (where MCC keeps tier and budget): ``custom_fields.sync_mcc_fields`` writes them."""
        ...

    async def aclose(self) -> None:
        """Release connections / files."""
        ...
