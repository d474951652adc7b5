"""The inbox writer thread on a real SQLite file: rows from many threads stored in groups, each once; a row that
cannot be stored fails alone while the rows grouped with it are stored."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from spine.models import WebhookDelivery
from sync import inbox
from sync.inbox_writer import InboxWriter
from tests.sync.inbound_world import TENANT, build_world


def _row(n: int, tenant: str = TENANT) -> dict[str, object]:
    body = f'{{"n": {n}}}'.encode()
    return inbox.row(tenant, "workfront", inbox.delivery_id_for(body), {}, body)


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(WebhookDelivery)) or 0


@pytest.fixture
def writer(session_factory: sessionmaker[Session]) -> InboxWriter:
    if session_factory.kw["bind"].dialect.name != "sqlite":
        pytest.skip("the writer thread serves SQLite (PostgreSQL takes each request's own transaction)")
    build_world(session_factory)
    return InboxWriter(session_factory)


def test_rows_from_many_threads_stored_once(writer: InboxWriter, session_factory: sessionmaker[Session]) -> None:
    rows = [_row(n % 40) for n in range(120)]  # each delivery three times, with ids of their own
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(writer.store_blocking, rows))
    assert sum(g.created for g in got) == 40 and _count(session_factory) == 40
    by_delivery: dict[object, set[str]] = {}
    for row, g in zip(rows, got, strict=True):
        by_delivery.setdefault(row["delivery_id"], set()).add(g.id)
    assert all(len(ids) == 1 for ids in by_delivery.values())


def test_a_row_that_fails_fails_alone(writer: InboxWriter, session_factory: sessionmaker[Session]) -> None:
    path = session_factory.kw["bind"].url.database
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # hold the write lock so the next rows wait together for one group
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(writer.store_blocking, _row(0))
        time.sleep(0.3)
        rest = [pool.submit(writer.store_blocking, r) for r in (_row(1), _row(2, tenant="nobody"), _row(3))]
        time.sleep(0.3)
        lock.execute("ROLLBACK")
        assert first.result(30).created and rest[0].result(30).created and rest[2].result(30).created
        with pytest.raises(IntegrityError):  # no such tenant: this row only
            rest[1].result(30)
    lock.close()
    assert _count(session_factory) == 3
