"""A call stuck on a database lock stalls only itself: the guard and the handlers run blocking work in threads.

PostgreSQL: a second connection holds ``LOCK TABLE campaigns``; a ``get_campaign`` call waits on it (seen in
``pg_locks``) while another call on the same server, which reads no campaign, completes. SQLite locks the whole
file, so every audited call waits on a held write transaction; there the server still answers ``list_tools``
while the stuck call waits. Without threads the stuck call would hold the event loop until the lock holder gives
up, and the other request could only finish after it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import Engine, event, text

from mcp_servers.guard.blocking import in_thread
from mcp_servers.guard.guard import Guard
from mcp_servers.guard.identity import FixedPrincipal
from mcp_servers.spine.server import build_spine_server
from policies.engine import PolicyEngine
from policies.model import Principal
from spine.approvals import ApprovalStore
from spine.audit import AuditLog
from spine.db import make_session_factory
from spine.demo import DEMO_TENANT, load_demo
from spine.repositories import open_store

GIVE_UP_S = 20.0  # the lock holder lets go after this even if the test never releases it (a blocked loop)


class LockHolder:
    """Holds a database lock from its own thread and connection until ``release()`` (or ``GIVE_UP_S``)."""

    def __init__(self, engine: Engine, backend: str) -> None:
        self._engine, self._backend = engine, backend
        self.held, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        if self._backend == "postgresql":
            with self._engine.connect() as conn, conn.begin() as tx:
                conn.execute(text("LOCK TABLE campaigns IN ACCESS EXCLUSIVE MODE"))
                self.held.set()
                self._release.wait(GIVE_UP_S)
                tx.rollback()
            return
        raw = sqlite3.connect(str(self._engine.url.database), isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")  # the file's write lock: every audit append waits for it
            self.held.set()
            self._release.wait(GIVE_UP_S)
            raw.execute("ROLLBACK")
        finally:
            raw.close()

    def __enter__(self) -> LockHolder:
        self._thread.start()
        assert self.held.wait(GIVE_UP_S), "the lock holder never got its lock"
        return self

    def release(self) -> None:
        self._release.set()

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._thread.join(GIVE_UP_S + 5)


@pytest.fixture
def world(engine: Engine, db_backend: str) -> Iterator[tuple[Any, str]]:
    sessions = make_session_factory(engine)
    load_demo(sessions, today=dt.date(2026, 11, 1))
    with open_store(sessions, DEMO_TENANT) as store:
        campaign_id = store.campaigns.list(limit=1)[0].id
    audit = AuditLog(sessions)
    policy = PolicyEngine.from_directory(fx_rates={"USD": Decimal(1)})
    principal = Principal("maya.chen", DEMO_TENANT, frozenset({"campaign-managers"}))
    guard = Guard("spine", policy, ApprovalStore(sessions, audit=audit), audit, FixedPrincipal(principal))
    yield build_spine_server(sessions, guard), campaign_id


def _waiting_on_campaigns(engine: Engine) -> bool:
    with engine.connect() as conn:
        q = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'campaigns'::regclass")
        return bool(conn.execute(q).scalar())


async def _until(check: Any) -> None:
    for _ in range(int(GIVE_UP_S / 0.02)):
        if await in_thread(check):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the stuck call never reached the lock")


async def test_a_call_waiting_on_a_lock_does_not_stall_another_call(world, engine, db_backend) -> None:  # type: ignore[no-untyped-def]
    server, campaign_id = world
    reached = threading.Event()

    def note_audit_write(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "audit_chain_head" in statement:
            reached.set()

    async with Client(server) as stuck_client, Client(server) as other_client:
        with LockHolder(engine, db_backend) as lock:
            event.listen(engine, "before_cursor_execute", note_audit_write)
            try:
                stuck = asyncio.create_task(stuck_client.call_tool("get_campaign", {"campaign_id": campaign_id}))
                if db_backend == "postgresql":
                    await _until(lambda: _waiting_on_campaigns(engine))
                    other = await other_client.call_tool("list_approvals", {"status": None})
                    assert not other.is_error, other.content[0].text
                else:
                    await _until(reached.is_set)
                    listed = await other_client.list_tools()
                    assert "get_campaign" in {t.name for t in listed.tools}
            finally:
                event.remove(engine, "before_cursor_execute", note_audit_write)
            # The other request finished while the stuck call still waited on the lock.
            assert not stuck.done()
            lock.release()
            result = await stuck
        assert not result.is_error, result.content[0].text
        assert result.structured_content["id"] == campaign_id
