"""What the campaign-creation workflow does in Workfront or Asana, over the connectors' backends (REST client or
sandbox), never an MCP server. Every create carries the caller's request key, so a repeat returns the first object:
the sandboxes keep the keys, the Workfront client finds them in ``extRefID``, the Asana client in its ledger.

Structure: a Workfront project gets one parent task per template section with the section's tasks under it; an
Asana project gets one section per template section with the tasks in it. Assigning sets the task's assignee
(idempotent by nature).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from connectors.asana.backend import AsanaBackend
from connectors.asana.models import MembershipInput, ProjectCreate, TaskCreate
from connectors.errors import NotFoundError
from connectors.workfront.backend import WorkfrontBackend

SystemName = Literal["workfront", "asana"]


class SetupSystem(Protocol):
    """The creates and assignments of one external system, keyed for safe repeats."""

    name: SystemName

    async def create_project(self, campaign: dict[str, Any], owner: str | None, key: str) -> str: ...

    async def project_exists(self, project_id: str) -> bool: ...

    async def create_section(self, project_id: str, name: str, key: str) -> str: ...

    async def create_task(self, project_id: str, section_id: str, task: dict[str, Any], key: str) -> str: ...

    async def assign(self, task_id: str, external_user: str) -> None: ...

    async def aclose(self) -> None: ...


def _description(campaign: dict[str, Any]) -> str:
    return f"MCC campaign {campaign['id']} ({campaign['type']}, tier {campaign['tier']})."


async def _found(read: Awaitable[Any]) -> bool:
    """Whether reading an object by id finds it (not found: False; any other error is raised)."""
    try:
        await read
    except NotFoundError:
        return False
    return True


@dataclass
class WorkfrontSetup:
    backend: WorkfrontBackend
    name: SystemName = "workfront"

    async def create_project(self, campaign: dict[str, Any], owner: str | None, key: str) -> str:
        project = await self.backend.create_project(
            campaign["name"], planned_start_date=campaign["start"], planned_completion_date=campaign["end"],
            owner_id=owner, description=_description(campaign), idempotency_key=key,
        )  # fmt: skip
        return project.id

    async def project_exists(self, project_id: str) -> bool:
        return await _found(self.backend.get_project(project_id))

    async def create_section(self, project_id: str, name: str, key: str) -> str:
        return (await self.backend.create_task(project_id, name, idempotency_key=key)).id

    async def create_task(self, project_id: str, section_id: str, task: dict[str, Any], key: str) -> str:
        made = await self.backend.create_task(
            project_id, task["name"], parent_id=section_id, planned_start_date=task["start"],
            planned_completion_date=task["due"], work_required=task["minutes"], idempotency_key=key,
        )  # fmt: skip
        return made.id

    async def assign(self, task_id: str, external_user: str) -> None:
        await self.backend.assign_resource(task_id, external_user)

    async def aclose(self) -> None:
        await self.backend.aclose()


@dataclass
class AsanaSetup:
    backend: AsanaBackend
    name: SystemName = "asana"

    async def create_project(self, campaign: dict[str, Any], owner: str | None, key: str) -> str:
        data = ProjectCreate(name=campaign["name"], notes=_description(campaign), start_on=campaign["start"],
                             due_on=campaign["end"])  # fmt: skip
        return (await self.backend.create_project(data, idempotency_key=key)).gid

    async def project_exists(self, project_id: str) -> bool:
        return await _found(self.backend.get_project(project_id))

    async def create_section(self, project_id: str, name: str, key: str) -> str:
        return (await self.backend.create_section(project_id, name, idempotency_key=key)).gid

    async def create_task(self, project_id: str, section_id: str, task: dict[str, Any], key: str) -> str:
        data = TaskCreate(name=task["name"], start_on=task["start"], due_on=task["due"],
                          memberships=[MembershipInput(project=project_id, section=section_id)])  # fmt: skip
        return (await self.backend.create_task(data, idempotency_key=key)).gid

    async def assign(self, task_id: str, external_user: str) -> None:
        await self.backend.update_task(task_id, {"assignee": external_user})

    async def aclose(self) -> None:
        await self.backend.aclose()


# tenant id, system -> a fresh SetupSystem (the caller closes it): backends hold event-loop-bound clients.
SystemFactory = Callable[[str, SystemName], SetupSystem]


def system_factory(workfront: Callable[[str], WorkfrontBackend], asana: Callable[[str], AsanaBackend]) -> SystemFactory:
    """A SystemFactory over two per-tenant backend builders (each call builds a new backend)."""

    def make(tenant_id: str, system: SystemName) -> SetupSystem:
        return AsanaSetup(asana(tenant_id)) if system == "asana" else WorkfrontSetup(workfront(tenant_id))

    return make


async def with_system(
    factory: SystemFactory, tenant_id: str, system: SystemName, work: Callable[[SetupSystem], Awaitable[Any]]
) -> Any:
    """Run ``work`` on a fresh backend of ``system`` for ``tenant_id`` and close it."""
    target = factory(tenant_id, system)
    try:
        return await work(target)
    finally:
        await target.aclose()
