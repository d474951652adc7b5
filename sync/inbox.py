"""The webhook inbox: every accepted delivery is stored first (keyed by tenant, system and delivery id, so a
redelivery is a no-op), then acknowledged, then processed from the queue. A crash loses nothing: an unprocessed
row stays ``received`` and is picked up again; a processed row is never applied twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from spine.db import utcnow
from spine.models import WebhookDelivery

_TABLE = WebhookDelivery.__table__
STATUSES = ("received", "processed", "failed", "ignored")
MAX_ATTEMPTS = 5
# Headers never stored: they carry credentials (or the handshake secret itself).
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-hook-secret", "sessionid", "apikey"}
_SECRET_WORD = re.compile("token|secret|password|key")


def delivery_id_for(raw_body: bytes, headers: Mapping[str, str] | None = None) -> str:
    """The delivery's id: the sender's request id header when it sends one, else the SHA-256 of the raw body
    (neither Asana nor Workfront numbers deliveries; a redelivery repeats the same bytes)."""
    for name in ("x-request-id", "x-delivery-id"):
        value = (headers or {}).get(name)
        if value and 0 < len(value) <= 120 and value.isascii():
            return f"h:{value}"
    return "b:" + hashlib.sha256(raw_body).hexdigest()


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers worth keeping for diagnosis, without credentials."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low in _SECRET_HEADERS or _SECRET_WORD.search(low):
            continue
        kept[low] = value[:500]
    return kept


@dataclass(frozen=True, slots=True)
class Stored:
    """The inbox row of a delivery and whether this request created it (False: a duplicate)."""

    id: str
    created: bool


def _insert_statement(dialect: str) -> Any:
    t = _TABLE
    keys = ["tenant_id", "system", "delivery_id"]
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(t).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite.insert(t).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover  (other databases: the unique key still refuses a duplicate)
        stmt = insert(t)
    return stmt.returning(t.c.id)


# Built once per dialect (immutable statements, so SQLAlchemy's compiled cache serves every call).
_INSERTS = {name: _insert_statement(name) for name in ("postgresql", "sqlite")}


def row(tenant_id: str, system: str, delivery_id: str, headers: Mapping[str, str], raw_body: bytes) -> dict[str, Any]:
    """The inbox row of one delivery, not yet stored (raises UnicodeDecodeError on a body that is not UTF-8)."""
    from spine.models._base import new_id

    return {"id": new_id(), "tenant_id": tenant_id, "system": system, "delivery_id": delivery_id,
            "headers": safe_headers(headers), "body": raw_body.decode("utf-8"), "status": "received", "attempts": 0,
            "received_at": utcnow()}  # fmt: skip


def store(
    sessions: sessionmaker[Session], tenant_id: str, system: str, delivery_id: str, headers: Mapping[str, str],
    raw_body: bytes,
) -> Stored:  # fmt: skip
    """Store one delivery (in its own committed transaction) unless the same delivery is already there."""
    return store_many(sessions, [row(tenant_id, system, delivery_id, headers, raw_body)])[0]


def store_many(sessions: sessionmaker[Session], rows: list[dict[str, Any]]) -> list[Stored]:
    """Store rows (from ``row``) in one committed transaction, each unless its delivery is already there (stored
    before, or earlier in ``rows``); one ``Stored`` per row, in order."""
    engine = sessions.kw["bind"]
    name = engine.dialect.name
    stmt = _INSERTS[name] if name in _INSERTS else _insert_statement(name)
    t = _TABLE
    out: list[Stored] = []
    with engine.begin() as conn:
        for values in rows:
            if conn.execute(stmt, values).first() is not None:
                out.append(Stored(values["id"], True))
                continue
            existing = conn.execute(select(t.c.id).where(
                t.c.tenant_id == values["tenant_id"], t.c.system == values["system"],
                t.c.delivery_id == values["delivery_id"])).scalar_one()  # fmt: skip
            out.append(Stored(str(existing), False))
    return out


def claim_many(session: Session, ids: list[str]) -> set[str]:
    """Take rows for processing in the caller's transaction: the ids still ``received``. A write first, so SQLite
    takes its write lock before reading anything (concurrent workers wait on the busy timeout instead of failing on
    a stale snapshot) and PostgreSQL locks the rows until the commit (a second worker then skips them)."""
    t = _TABLE
    stmt = update(t).where(t.c.id.in_(ids), t.c.status == "received").values(status="received").returning(t.c.id)
    return {str(r[0]) for r in session.connection().execute(stmt)}


def finish(session: Session, closed: dict[str, tuple[str, dict[str, Any] | None]]) -> None:
    """Close claimed rows (id -> (status, summary)) in the caller's transaction, in one executemany: they commit
    with the changes they describe."""
    if any(status not in STATUSES for status, _ in closed.values()):
        raise ValueError(f"status: one of {STATUSES}")
    t = _TABLE  # Core, not the ORM: this runs once per delivery
    stmt = update(t).where(t.c.id == bindparam("row_id")).values(
        status=bindparam("new_status"), summary=bindparam("new_summary"), error=None, attempts=t.c.attempts + 1,
        processed_at=bindparam("at"))  # fmt: skip
    now = utcnow()
    rows = [{"row_id": i, "new_status": st, "new_summary": summ, "at": now} for i, (st, summ) in closed.items()]
    if rows:
        session.connection().execute(stmt, rows)


def record_failure(sessions: sessionmaker[Session], inbox_id: str, error: str, max_attempts: int = MAX_ATTEMPTS) -> str:
    """Count a failed attempt in its own transaction; after ``max_attempts`` the row is ``failed`` (kept, shown by
    ``mcc sync inbox --status failed``). Returns the row's status."""
    with sessions() as s, s.begin():
        row = s.scalar(select(WebhookDelivery).where(WebhookDelivery.id == inbox_id).with_for_update())
        if row is None or row.status != "received":
            return row.status if row is not None else "missing"
        row.attempts += 1
        row.error = error[:2000]
        if row.attempts >= max_attempts:
            row.status, row.processed_at = "failed", utcnow()
        return row.status


def pending_ids(sessions: sessionmaker[Session], limit: int = 1000, older_than: dt.datetime | None = None) -> list[str]:
    """Ids of rows still ``received``, oldest first (the recovery sweep after a crash)."""
    q = select(WebhookDelivery.id).where(WebhookDelivery.status == "received")
    if older_than is not None:
        q = q.where(WebhookDelivery.received_at <= older_than)
    with sessions() as s:
        return list(s.scalars(q.order_by(WebhookDelivery.received_at, WebhookDelivery.id).limit(limit)))


def retry(sessions: sessionmaker[Session], inbox_id: str) -> bool:
    """Put a ``failed`` row back to ``received`` (``mcc sync retry``); False when it is not failed."""
    with sessions() as s, s.begin():
        res = s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == inbox_id, WebhookDelivery.status == "failed")
            .values(status="received", attempts=0, error=None)
        )
        return res.rowcount == 1


def counts(sessions: sessionmaker[Session], tenant_id: str | None = None) -> dict[str, int]:
    """Rows per status (of one tenant, or all)."""
    q = select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
    if tenant_id is not None:
        q = q.where(WebhookDelivery.tenant_id == tenant_id)
    with sessions() as s:
        return {str(k): int(v) for k, v in s.execute(q)}


def listing(
    sessions: sessionmaker[Session], tenant_id: str, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The tenant's newest deliveries (without bodies) for ``mcc sync inbox``."""
    q = select(WebhookDelivery).where(WebhookDelivery.tenant_id == tenant_id)
    if status is not None:
        q = q.where(WebhookDelivery.status == status)
    with sessions() as s:
        rows = s.scalars(q.order_by(WebhookDelivery.received_at.desc()).limit(limit))
        return [{"id": r.id, "system": r.system, "delivery_id": r.delivery_id, "status": r.status,
                 "attempts": r.attempts, "error": r.error, "summary": r.summary,
                 "received_at": r.received_at.isoformat()} for r in rows]  # fmt: skip
