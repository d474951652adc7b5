"""The one async interface every Workfront backend implements (sandbox and REST client).

The MCP tools call only this protocol, so switching the backend in settings changes no tool. Both
implementations validate arguments with ``inputs``/``query`` before any I/O, raise the same errors
(``errors``) and return the same models (``models``). There is deliberately no delete operation.

Idempotency: the create calls take an optional ``idempotency_key``. The sandbox stores key -> created
object and returns that object on a repeat (a repeat with different arguments is an InvalidArgument).
Workfront has no idempotency mechanism, so the REST client cannot honour the key on the server side:
the caller (the spine's sync/idempotency records) must remember key -> ID and not call again; the client
never retries a POST that may have reached Workfront (see ``client.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal, Protocol, runtime_checkable

from connectors.workfront.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    WorkfrontError,
)
from connectors.workfront.models import (
    Issue,
    Note,
    Project,
    ProjectSummary,
    SearchPage,
    Task,
    TeamCapacity,
    User,
)

__all__ = [
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "WorkfrontBackend",
    "WorkfrontError",
]

DateArg = date | str


@runtime_checkable
class WorkfrontBackend(Protocol):
    """Workfront operations the MCP tools need. Dates are ``date`` or ``YYYY-MM-DD`` strings."""

    async def create_project(
        self,
        name: str,
        *,
        template_id: str | None = None,
        planned_start_date: DateArg | None = None,
        planned_completion_date: DateArg | None = None,
        portfolio_id: str | None = None,
        owner_id: str | None = None,
        description: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Project:
        """Create a project (status PLN), copying the template's tasks when ``template_id`` is given."""
        ...

    async def get_project(self, project_id: str) -> ProjectSummary:
        """A project with its status, percent complete and task counts by status code."""
        ...

    async def search(
        self,
        obj_code: str,
        filters: Mapping[str, str | int | float | Sequence[str]] | None = None,
        fields: Sequence[str] | None = None,
        limit: int = 100,
        first: int = 0,
    ) -> SearchPage:
        """Search objects with Workfront ``_Mod`` filters and ``$$LIMIT``/``$$FIRST`` paging."""
        ...

    async def create_task(
        self,
        project_id: str,
        name: str,
        *,
        assigned_to_id: str | None = None,
        planned_start_date: DateArg | None = None,
        planned_completion_date: DateArg | None = None,
        description: str | None = None,
        parent_id: str | None = None,
        work_required: int = 0,
        idempotency_key: str | None = None,
    ) -> Task:
        """Create a task (status NEW) in a project; ``work_required`` is in minutes."""
        ...

    async def update_task(self, task_id: str, changes: Mapping[str, Any]) -> Task:
        """Change name/description/planned dates/percentComplete/workRequired of a task."""
        ...

    async def update_project(self, project_id: str, changes: Mapping[str, Any]) -> Project:
        """Set a project's name, description, planned dates and ``DE:`` custom fields (the others stay)."""
        ...

    async def update_status(self, obj_type: Literal["task", "project"], obj_id: str, status: str) -> Task | Project:
        """Set a Workfront status code on a task or a project."""
        ...

    async def assign_resource(self, task_id: str, user_id: str) -> Task:
        """Make ``user_id`` the task's assignee."""
        ...

    async def search_users(self, text: str | None = None, *, limit: int = 50) -> list[User]:
        """Users whose name or email contains ``text`` (case-insensitive), ordered by name; all when None."""
        ...

    async def get_capacity(self, team_id: str, start_date: DateArg, end_date: DateArg) -> TeamCapacity:
        """Available hours of each team member between two dates (see ``capacity.py``)."""
        ...

    async def create_issue(
        self,
        project_id: str,
        name: str,
        *,
        description: str | None = None,
        priority: int = 2,
        assigned_to_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Issue:
        """Create an issue (OPTASK, status NEW) on a project."""
        ...

    async def add_note(self, obj_code: str, obj_id: str, text: str, *, idempotency_key: str | None = None) -> Note:
        """Add a note (update) to a PROJ, TASK or OPTASK."""
        ...

    async def aclose(self) -> None:
        """Release connections or files."""
        ...
