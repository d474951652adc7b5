"""Demo data for the Workfront sandbox: a small directory (users, teams, portfolios, templates) plus the
projects and tasks the demo loader asks for.

IDs of the default directory are derived from names, so every demo world has the same users and teams.
Projects go through the normal protocol calls (validated like any tool call) with idempotency keys
``seed:<key>``, so running the seed twice creates nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.workfront.models import Directory, Portfolio, Team, TemplateSpec, TemplateTaskSpec, User
from connectors.workfront.sandbox import WorkfrontSandbox


def demo_guid(kind: str, name: str) -> str:
    """A stable 32-hex ID for a demo object."""
    return hashlib.md5(f"mcc-demo:{kind}:{name}".encode(), usedforsecurity=False).hexdigest()


def default_directory() -> Directory:
    """Two teams, five users, one portfolio and two campaign templates."""
    creative, ops = demo_guid("team", "Creative"), demo_guid("team", "Marketing Ops")
    people = [
        ("Alex Rivera", "alex.rivera@example.com", creative),
        ("Bea Chen", "bea.chen@example.com", creative),
        ("Chris Okafor", "chris.okafor@example.com", creative),
        ("Dana Kim", "dana.kim@example.com", ops),
        ("Eli Novak", "eli.novak@example.com", ops),
    ]
    return Directory(
        users=[User(ID=demo_guid("user", n), name=n, emailAddr=e, homeTeamID=t) for n, e, t in people],
        teams=[Team(ID=creative, name="Creative"), Team(ID=ops, name="Marketing Ops")],
        portfolios=[Portfolio(ID=demo_guid("portfolio", "Campaigns"), name="Campaigns")],
        templates=[
            TemplateSpec(
                id=demo_guid("template", "Product Launch Campaign"),
                name="Product Launch Campaign",
                tasks=[
                    TemplateTaskSpec(name="Creative brief", work_required=480, duration_days=2),
                    TemplateTaskSpec(name="Design assets", work_required=1920, start_offset_days=2, duration_days=5),
                    TemplateTaskSpec(name="Copywriting", work_required=960, start_offset_days=2, duration_days=3),
                    TemplateTaskSpec(name="Launch review", work_required=240, start_offset_days=7, duration_days=1),
                ],
            ),
            TemplateSpec(
                id=demo_guid("template", "Email Campaign"),
                name="Email Campaign",
                tasks=[
                    TemplateTaskSpec(name="Audience list", work_required=240, duration_days=1),
                    TemplateTaskSpec(name="Email build", work_required=720, start_offset_days=1, duration_days=2),
                ],
            ),
        ],
    )


class SeedTask(BaseModel):
    """A task to create in a seeded project (same arguments as ``create_task``)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    assigned_to_id: str | None = None
    planned_start_date: date | None = None
    planned_completion_date: date | None = None
    description: str | None = None
    work_required: int = 0
    status: str | None = None


class SeedProject(BaseModel):
    """A project to create (same arguments as ``create_project``) plus its tasks and final status."""

    model_config = ConfigDict(extra="forbid")
    key: str
    name: str
    template_id: str | None = None
    planned_start_date: date | None = None
    planned_completion_date: date | None = None
    portfolio_id: str | None = None
    owner_id: str | None = None
    description: str | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    status: str | None = None
    tasks: list[SeedTask] = Field(default_factory=list)


class SeededProject(BaseModel):
    key: str
    id: str
    task_ids: list[str]


class SeedResult(BaseModel):
    """IDs of everything the seed made: directory objects by name, projects by key."""

    users: dict[str, str]
    teams: dict[str, str]
    portfolios: dict[str, str]
    templates: dict[str, str]
    projects: list[SeededProject]


async def seed_demo(
    sandbox: WorkfrontSandbox,
    projects: Sequence[SeedProject | Mapping[str, Any]] = (),
    directory: Directory | None = None,
) -> SeedResult:
    """Load the directory (default: ``default_directory()``) and create ``projects``; returns their IDs."""
    directory = directory or default_directory()
    await sandbox.load_directory(directory)
    made: list[SeededProject] = []
    for spec in projects:
        p = spec if isinstance(spec, SeedProject) else SeedProject.model_validate(spec)
        project = await sandbox.create_project(
            p.name,
            template_id=p.template_id,
            planned_start_date=p.planned_start_date,
            planned_completion_date=p.planned_completion_date,
            portfolio_id=p.portfolio_id,
            owner_id=p.owner_id,
            description=p.description,
            custom_fields=p.custom_fields,
            idempotency_key=f"seed:{p.key}",
        )
        task_ids: list[str] = []
        for i, t in enumerate(p.tasks):
            task = await sandbox.create_task(
                project.id,
                t.name,
                assigned_to_id=t.assigned_to_id,
                planned_start_date=t.planned_start_date,
                planned_completion_date=t.planned_completion_date,
                description=t.description,
                work_required=t.work_required,
                idempotency_key=f"seed:{p.key}:task:{i}",
            )
            if t.status:
                await sandbox.update_status("task", task.id, t.status)
            task_ids.append(task.id)
        if p.status:
            await sandbox.update_status("project", project.id, p.status)
        made.append(SeededProject(key=p.key, id=project.id, task_ids=task_ids))
    return SeedResult(
        users={u.name: u.id for u in directory.users},
        teams={t.name: t.id for t in directory.teams},
        portfolios={p.name: p.id for p in directory.portfolios},
        templates={t.name: t.id for t in directory.templates},
        projects=made,
    )
