"""Read-only searches of one tenant's audit rows (the web app's audit page and campaign page)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session, sessionmaker

from spine.models.governance import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditRow:
    """What a listing shows of an audit row (its detail stays in the database)."""

    seq: int
    at: dt.datetime
    actor: str
    server: str
    tool: str
    decision: str
    rule_ids: list[str]
    approval_id: str | None


_COLUMNS = (AuditEntry.seq, AuditEntry.at, AuditEntry.actor, AuditEntry.server, AuditEntry.tool,
            AuditEntry.decision, AuditEntry.rule_ids, AuditEntry.approval_id)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Every field narrows; None leaves it open. ``text`` matches actor, tool or the row's detail."""

    decision: str | None = None
    server: str | None = None
    actor: str | None = None
    tool: str | None = None
    approval_id: str | None = None
    since: dt.datetime | None = None
    text: str | None = None


class AuditSearch:
    """Newest-first reads of ``tenant_id``'s audit rows; never another tenant's, never the chain-wide rows."""

    def __init__(self, sessions: sessionmaker[Session], tenant_id: str) -> None:
        self._sessions, self.tenant_id = sessions, tenant_id

    def recent(self, where: AuditFilter | None = None, limit: int = 100) -> Sequence[AuditRow]:
        w = where or AuditFilter()
        stmt = select(AuditEntry).where(AuditEntry.tenant_id == self.tenant_id)
        for column, value in ((AuditEntry.decision, w.decision), (AuditEntry.server, w.server),
                              (AuditEntry.actor, w.actor), (AuditEntry.tool, w.tool),
                              (AuditEntry.approval_id, w.approval_id)):  # fmt: skip
            if value:
                stmt = stmt.where(column == value)
        if w.since is not None:
            stmt = stmt.where(AuditEntry.at >= w.since)
        if w.text:
            like = w.text.lower()
            stmt = stmt.where(
                or_(AuditEntry.actor.icontains(like, autoescape=True), AuditEntry.tool.icontains(like, autoescape=True),
                    cast(AuditEntry.detail, String).icontains(like, autoescape=True))
            )  # fmt: skip
        return self._run(stmt, limit)

    def concerning(self, ids: Collection[str], approval_ids: Collection[str] = (), limit: int = 100) -> Sequence[
            AuditRow]:  # fmt: skip
        """Rows whose detail names one of ``ids`` (e.g. a campaign and its external ids) or that resolve one of
        ``approval_ids``."""
        conditions = [cast(AuditEntry.detail, String).contains(i, autoescape=True) for i in ids if i]
        if approval_ids:
            conditions.append(AuditEntry.approval_id.in_(list(approval_ids)))
        if not conditions:
            return []
        stmt = select(AuditEntry).where(AuditEntry.tenant_id == self.tenant_id, or_(*conditions))
        return self._run(stmt, limit)

    def facets(self) -> dict[str, list[str]]:
        """The distinct decisions and servers of this tenant's rows (filter choices)."""
        out: dict[str, list[str]] = {}
        with self._sessions() as s:
            for name, column in (("decision", AuditEntry.decision), ("server", AuditEntry.server)):
                stmt = select(column).where(AuditEntry.tenant_id == self.tenant_id).distinct().order_by(column)
                out[name] = [v for v in s.scalars(stmt) if v]
        return out

    def _run(self, stmt: Select[Any], limit: int) -> Sequence[AuditRow]:
        # Plain rows of the listed columns: a page of 100 ORM entities with their JSON detail costs ~3x more.
        stmt = stmt.with_only_columns(*_COLUMNS).order_by(AuditEntry.seq.desc()).limit(max(1, min(limit, 500)))
        with self._sessions() as s:
            return [AuditRow(*row) for row in s.execute(stmt)]
