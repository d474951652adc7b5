"""The sandbox's read side: rows to API models, and keyset pages with signed opaque offsets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.asana.models import Compact, Membership, NextPage, Page, Project, Section, Task, User
from connectors.asana.sandbox_store import (
    MembershipRow,
    ProjectRow,
    SectionRow,
    TaskRow,
    TeamRow,
    UserRow,
    WorkspaceRow,
    decode_offset,
    encode_offset,
    scope_of,
)

SANDBOX_URI = "sandbox://asana/api/1.0"


def page_rows(
    s: Session,
    secret: bytes,
    q: Any,
    seq_col: Any,
    scope_parts: tuple[Any, ...],
    limit: int,
    offset: str | None,
    path: str,
    params: dict[str, Any],
) -> tuple[list[Any], NextPage | None]:
    """Rows after `offset` in `seq_col` order, and the next page's link when more remain."""
    scope = scope_of(*scope_parts)
    if offset is not None:
        q = q.where(seq_col > decode_offset(secret, scope, offset))
    rows = list(s.scalars(q.order_by(seq_col).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    token = encode_offset(secret, scope, rows[-1].seq)
    query = {k: ("true" if v is True else "false" if v is False else v) for k, v in params.items() if v is not None}
    rel = f"{path}?{urlencode({**query, 'limit': limit, 'offset': token})}"
    return rows, NextPage(offset=token, path=rel, uri=SANDBOX_URI + rel)


def project_view(s: Session, row: ProjectRow) -> Project:
    ws = s.get(WorkspaceRow, row.workspace_gid)
    team = s.get(TeamRow, row.team_gid) if row.team_gid else None
    return Project(
        gid=row.gid,
        name=row.name,
        notes=row.notes,
        archived=row.archived,
        workspace=Compact(gid=row.workspace_gid, name=ws.name if ws else None),
        team=Compact(gid=team.gid, name=team.name) if team else None,
        due_on=row.due_on,
        start_on=row.start_on,
        created_at=row.created_at,
        modified_at=row.modified_at,
    )


def section_view(s: Session, row: SectionRow) -> Section:
    name = s.scalar(select(ProjectRow.name).where(ProjectRow.gid == row.project_gid))
    return Section(
        gid=row.gid, name=row.name, project=Compact(gid=row.project_gid, name=name), created_at=row.created_at
    )


def task_view(s: Session, row: TaskRow) -> Task:
    mems = s.execute(
        select(ProjectRow.gid, ProjectRow.name, SectionRow.gid, SectionRow.name)
        .join(MembershipRow, MembershipRow.project_gid == ProjectRow.gid)
        .join(SectionRow, SectionRow.gid == MembershipRow.section_gid)
        .where(MembershipRow.task_gid == row.gid)
        .order_by(ProjectRow.seq)
    ).all()
    user = s.get(UserRow, row.assignee_gid) if row.assignee_gid else None
    parent = s.scalars(select(TaskRow).where(TaskRow.gid == row.parent_gid)).one_or_none() if row.parent_gid else None
    ws = s.get(WorkspaceRow, row.workspace_gid)
    n_sub = s.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.parent_gid == row.gid)) or 0
    return Task(
        gid=row.gid,
        name=row.name,
        notes=row.notes,
        completed=row.completed,
        completed_at=row.completed_at,
        assignee=Compact(gid=user.gid, name=user.name) if user else None,
        due_on=row.due_on,
        start_on=row.start_on,
        projects=[Compact(gid=p, name=pn) for p, pn, _, _ in mems],
        memberships=[
            Membership(project=Compact(gid=p, name=pn), section=Compact(gid=sg, name=sn)) for p, pn, sg, sn in mems
        ],
        parent=Compact(gid=parent.gid, name=parent.name) if parent else None,
        num_subtasks=n_sub,
        workspace=Compact(gid=row.workspace_gid, name=ws.name if ws else None),
        created_at=row.created_at,
        modified_at=row.modified_at,
    )


def users_page(s: Session, secret: bytes, ws: str, limit: int, offset: str | None) -> Page[User]:
    """A workspace's users by gid; the offset carries how many were already returned (users have no seq)."""
    scope = scope_of("users", ws)
    start = decode_offset(secret, scope, offset) if offset is not None else 0
    q = select(UserRow).where(UserRow.workspace_gid == ws).order_by(UserRow.gid).offset(start).limit(limit + 1)
    rows = list(s.scalars(q))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        token = encode_offset(secret, scope, start + limit)
        rel = f"/workspaces/{ws}/users?{urlencode({'limit': limit, 'offset': token})}"
        nxt = NextPage(offset=token, path=rel, uri=SANDBOX_URI + rel)
    return Page[User](data=[User(gid=r.gid, name=r.name, email=r.email) for r in rows], next_page=nxt)
