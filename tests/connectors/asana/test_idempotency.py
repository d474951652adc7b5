"""Create idempotency keys of the Asana REST client survive a restart when they live in the spine."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.asana.backend import InvalidArgument
from connectors.asana.client import AsanaRestClient
from connectors.asana.idempotency import LEDGER_EVENT, InMemoryIdempotency, SpineIdempotency
from spine.db import transaction
from spine.models import EventLog
from spine.repositories import create_tenant
from tests.connectors.asana.conftest import TOKEN
from tests.wire.asana_server import AsanaWireServer


@pytest.fixture
def sessions(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(session_factory) as s:
        create_tenant(s, "acme", "Acme")
        create_tenant(s, "globex", "Globex")
    return session_factory


def client(server: AsanaWireServer, sessions: sessionmaker[Session], tenant: str = "acme") -> AsanaRestClient:
    """A fresh client, as a restarted process or another replica would build it."""
    ws = next(iter(server.state.workspaces))
    memory = SpineIdempotency(sessions, tenant)
    return AsanaRestClient(server.base_url, token=TOKEN, workspace_gid=ws, idempotency=memory, backoff_base=0.001)


def posts(server: AsanaWireServer, path_part: str) -> int:
    return sum(1 for r in server.requests if r["method"] == "POST" and path_part in r["path"])


async def test_every_create_is_replayed_by_a_restarted_client(
    server: AsanaWireServer, sessions: sessionmaker[Session]
) -> None:
    first = client(server, sessions)
    project = await first.create_project({"name": "Launch"}, idempotency_key="k-project")
    section = await first.create_section(project.gid, "Copy", idempotency_key="k-section")
    task = await first.create_task({"name": "Brief", "projects": [project.gid]}, idempotency_key="k-task")
    sub = await first.create_subtask(task.gid, {"name": "Outline"}, idempotency_key="k-sub")
    story = await first.add_comment(task.gid, "looks good", idempotency_key="k-story")
    await first.aclose()

    again = client(server, sessions)  # nothing in this instance's memory: the spine answers
    assert (await again.create_project({"name": "Launch"}, idempotency_key="k-project")).gid == project.gid
    assert (await again.create_section(project.gid, "Copy", idempotency_key="k-section")) == section
    assert (await again.create_task({"name": "Brief", "projects": [project.gid]}, idempotency_key="k-task")).gid == (
        task.gid
    )
    assert (await again.create_subtask(task.gid, {"name": "Outline"}, idempotency_key="k-sub")).gid == sub.gid
    assert (await again.add_comment(task.gid, "looks good", idempotency_key="k-story")) == story
    await again.aclose()

    assert posts(server, "/projects") - posts(server, "/sections") == 1
    assert (posts(server, "/sections"), posts(server, "/subtasks"), posts(server, "/stories")) == (1, 1, 1)
    assert sum(1 for r in server.requests if r["method"] == "POST" and r["path"].endswith("/tasks")) == 1
    assert len(server.state.tasks) == 2
    with sessions() as s:
        rows = s.scalar(select(func.count()).select_from(EventLog).where(EventLog.event_type == LEDGER_EVENT))
    assert rows == 5  # one per create; replays write nothing


async def test_a_key_reused_for_another_call_is_refused_after_a_restart(
    server: AsanaWireServer, sessions: sessionmaker[Session]
) -> None:
    first = client(server, sessions)
    await first.create_task({"name": "Brief"}, idempotency_key="k1")
    await first.aclose()
    again = client(server, sessions)
    with pytest.raises(InvalidArgument) as info:
        await again.create_task({"name": "Another brief"}, idempotency_key="k1")
    assert info.value.field == "idempotency_key"
    assert posts(server, "/tasks") == 1
    await again.aclose()


async def test_keys_are_per_tenant(server: AsanaWireServer, sessions: sessionmaker[Session]) -> None:
    acme, globex = client(server, sessions, "acme"), client(server, sessions, "globex")
    a = await acme.create_task({"name": "Brief"}, idempotency_key="same-key")
    g = await globex.create_task({"name": "Brief"}, idempotency_key="same-key")
    assert a.gid != g.gid and posts(server, "/tasks") == 2
    await acme.aclose()
    await globex.aclose()


async def test_spine_write_failure_is_logged_and_this_process_still_replays(
    server: AsanaWireServer, sessions: sessionmaker[Session], caplog: Any
) -> None:
    caplog.set_level(logging.WARNING)
    orphan = client(server, sessions, "no-such-tenant")  # every spine write fails: the tenant is unknown
    task = await orphan.create_task({"name": "Brief"}, idempotency_key="k1")
    assert "not recorded durably" in caplog.text
    assert (await orphan.create_task({"name": "Brief"}, idempotency_key="k1")).gid == task.gid
    assert posts(server, "/tasks") == 1
    await orphan.aclose()


async def test_a_retry_sent_while_the_first_call_waits_on_asana_gets_the_same_object(
    server: AsanaWireServer, sessions: sessionmaker[Session]
) -> None:
    c = client(server, sessions)
    server.inject(200, delay=0.3)  # Asana is slow to answer the first create: the retry arrives meanwhile
    brief = {"name": "Brief"}
    first, retry = await asyncio.gather(
        c.create_task(brief, idempotency_key="k-slow"), c.create_task(brief, idempotency_key="k-slow")
    )
    assert first.gid == retry.gid and posts(server, "/tasks") == 1 and len(server.state.tasks) == 1

    server.inject(200, delay=0.3)
    results = await asyncio.gather(
        c.create_task(brief, idempotency_key="k-slow-2"),
        c.create_task({"name": "Other"}, idempotency_key="k-slow-2"),
        return_exceptions=True,
    )
    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], InvalidArgument) and results[1].field == "idempotency_key"
    assert posts(server, "/tasks") == 2
    other = await c.create_task(brief, idempotency_key="k-other")  # other keys never wait on each other's turn
    assert other.gid not in {first.gid, results[0].gid}
    await c.aclose()


def test_in_memory_keeps_the_newest_keys() -> None:
    memory = InMemoryIdempotency(max_keys=2)
    for key in ("a", "b", "c"):
        memory.put(key, f"fp-{key}", {"gid": key})
    assert memory.get("a") is None and memory.get("c") == ("fp-c", {"gid": "c"})
