"""Demo seeding of the Asana sandbox: a workspace, users with emails, a team, and the caller's projects."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from connectors.asana.custom_fields import BUDGET_FIELD, TIER_FIELD
from connectors.asana.errors import InvalidArgument
from connectors.asana.models import ProjectCreate, SubtaskCreate, check_dates, parse_input
from connectors.asana.sandbox_custom_fields import create_custom_field
from connectors.asana.sandbox_store import (
    MembershipRow,
    MetaRow,
    ProjectRow,
    SectionRow,
    TaskRow,
    TeamRow,
    UserRow,
    WorkspaceRow,
    new_gid,
)
from spine.db import utcnow

DEFAULT_USERS: tuple[tuple[str, str], ...] = (
    ("Alex Morgan", "alex.morgan@example.com"),
    ("Priya Shah", "priya.shah@example.com"),
    ("Sam Lee", "sam.lee@example.com"),
)


@dataclasses.dataclass(frozen=True)
class DemoSeed:
    """Gids of what seed_demo created. sections are keyed "project name/section name"; tasks by name."""

    workspace_gid: str
    team_gid: str
    users: dict[str, str]
    projects: dict[str, str]
    sections: dict[str, str]
    tasks: dict[str, str]


def seed_demo(
    s: Session,
    *,
    workspace_name: str = "MCC Demo Workspace",
    team_name: str = "Marketing",
    users: Sequence[tuple[str, str]] = DEFAULT_USERS,
    projects: Sequence[Mapping[str, Any]] = (),
    mcc_fields: bool = True,
) -> DemoSeed:
    """Create the demo world once; a second call returns the first call's gids unchanged.

    Each project: {"name", "notes"?, "due_on"?, "start_on"?, "sections": [names]?, "tasks": [{"name",
    "section"?, "assignee"? (email), "notes"?, "due_on"?, "start_on"?, "completed"?, "subtasks"?: [...]}]}.
    `mcc_fields`: also define the workspace custom fields MCC writes tier and budget into (number fields).
    """
    done = s.get(MetaRow, "demo_seed")
    if done is not None:
        return DemoSeed(**json.loads(done.value))
    now = utcnow()
    ws = WorkspaceRow(gid=new_gid(), name=workspace_name)
    team = TeamRow(gid=new_gid(), name=team_name, workspace_gid=ws.gid)
    s.add(ws)
    s.flush()
    s.add(team)
    s.flush()
    user_gids: dict[str, str] = {}
    for name, email in users:
        user_gids[email] = new_gid()
        s.add(UserRow(gid=user_gids[email], name=name, email=email, workspace_gid=ws.gid))
    s.flush()
    if mcc_fields:
        create_custom_field(s, ws.gid, TIER_FIELD, "number", precision=0)
        create_custom_field(s, ws.gid, BUDGET_FIELD, "number", precision=2)
    seed = DemoSeed(ws.gid, team.gid, user_gids, {}, {}, {})
    for spec in projects:
        inp = parse_input(ProjectCreate, {k: v for k, v in spec.items() if k not in ("sections", "tasks")})
        check_dates(inp.start_on, inp.due_on)
        proj = ProjectRow(
            gid=new_gid(),
            name=inp.name,
            notes=inp.notes,
            workspace_gid=ws.gid,
            team_gid=team.gid,
            due_on=inp.due_on,
            start_on=inp.start_on,
            archived=False,
            created_at=now,
            modified_at=now,
        )
        s.add(proj)
        s.flush()
        seed.projects[inp.name] = proj.gid
        section_gids: dict[str, str] = {}
        for sec_name in spec.get("sections") or ["Untitled section"]:
            sec = SectionRow(gid=new_gid(), name=sec_name, project_gid=proj.gid, created_at=now)
            s.add(sec)
            section_gids[sec_name] = sec.gid
            seed.sections[f"{inp.name}/{sec_name}"] = sec.gid
        s.flush()
        for position, task_spec in enumerate(spec.get("tasks", ())):
            sec_name = task_spec.get("section") or next(iter(section_gids))
            if sec_name not in section_gids:
                raise InvalidArgument("projects", f"task {task_spec.get('name')!r} names unknown section {sec_name!r}")
            task = _add_task(s, seed, task_spec, ws.gid, None)
            s.add(
                MembershipRow(
                    task_gid=task.gid,
                    project_gid=proj.gid,
                    section_gid=section_gids[sec_name],
                    position=float(position),
                )
            )
    s.flush()
    s.add(MetaRow(key="demo_seed", value=json.dumps(dataclasses.asdict(seed))))
    return seed


def _add_task(s: Session, seed: DemoSeed, spec: Mapping[str, Any], ws: str, parent: str | None) -> TaskRow:
    fields = {k: v for k, v in spec.items() if k not in ("section", "subtasks", "assignee")}
    email = spec.get("assignee")
    if email is not None:
        if email not in seed.users:
            raise InvalidArgument("projects", f"task {spec.get('name')!r} names unknown assignee {email!r}")
        fields["assignee"] = seed.users[email]
    inp = parse_input(SubtaskCreate, fields)
    check_dates(inp.start_on, inp.due_on)
    now = utcnow()
    row = TaskRow(
        gid=new_gid(),
        name=inp.name,
        notes=inp.notes,
        completed=inp.completed,
        completed_at=now if inp.completed else None,
        assignee_gid=inp.assignee,
        due_on=inp.due_on,
        start_on=inp.start_on,
        workspace_gid=ws,
        parent_gid=parent,
        created_at=now,
        modified_at=now,
    )
    s.add(row)
    s.flush()
    seed.tasks[inp.name] = row.gid
    for sub in spec.get("subtasks", ()):
        _add_task(s, seed, sub, ws, row.gid)
    return row
