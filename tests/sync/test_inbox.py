"""The inbox store on SQLite and PostgreSQL: rows stored in one transaction, a delivery stored once even when it
comes twice in one group, and credentials never kept among the headers."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from spine.models import WebhookDelivery
from sync import inbox
from tests.sync.inbound_world import TENANT, build_world


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(WebhookDelivery)) or 0


def test_store_many_stores_each_delivery_once(session_factory: sessionmaker[Session]) -> None:
    build_world(session_factory)
    a, b = b'{"n": 1}', b'{"n": 2}'
    earlier = inbox.store(session_factory, TENANT, "workfront", inbox.delivery_id_for(b), {}, b)
    rows = [inbox.row(TENANT, "workfront", inbox.delivery_id_for(body), {}, body) for body in (a, b, a)]
    got = inbox.store_many(session_factory, rows)
    assert [g.created for g in got] == [True, False, False]
    assert got[0].id == rows[0]["id"] and got[2].id == got[0].id and got[1].id == earlier.id
    assert _count(session_factory) == 2
    again = inbox.store_many(session_factory, [inbox.row(TENANT, "asana", inbox.delivery_id_for(a), {}, a)])
    assert again[0].created and _count(session_factory) == 3  # the same bytes from another system: another delivery


def test_row_keeps_no_credentials() -> None:
    headers = {"Authorization": "Bearer x", "X-Api-Key": "k", "X-Hook-Secret": "s", "X-Session-Token": "t",
               "Content-Type": "application/json", "User-Agent": "Asana"}  # fmt: skip
    kept = inbox.row(TENANT, "asana", "b:1", headers, b"{}")["headers"]
    assert kept == {"content-type": "application/json", "user-agent": "Asana"}
