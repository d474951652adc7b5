"""REST-client specifics against the local Asana wire server: auth, retries, 429, error bodies, rate limit."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import httpx
import pytest
from aiolimiter import AsyncLimiter

from connectors.asana.backend import Forbidden, InvalidArgument, RateLimited, ServerError, Unauthorized
from connectors.asana.client import AsanaRestClient
from tests.connectors.asana.conftest import TOKEN
from tests.wire.asana_server import AsanaWireServer


class Recorder:
    """Stands in for asyncio.sleep so waits are asserted by value, not by time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_client(server: AsanaWireServer, **kw: Any) -> tuple[AsanaRestClient, Recorder]:
    sleep = Recorder()
    ws = next(iter(server.state.workspaces))
    kw.setdefault("token", TOKEN)
    return AsanaRestClient(server.base_url, workspace_gid=ws, sleep=sleep, **kw), sleep


def hits(server: AsanaWireServer, method: str, path_part: str) -> int:
    return sum(1 for r in server.requests if r["method"] == method and path_part in r["path"])


async def test_bearer_token_sent_never_logged_or_shown(server: AsanaWireServer, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = make_client(server)
    p = await client.create_project({"name": "P"})
    await client.get_project(p.gid)
    assert all(r["headers"]["authorization"] == f"Bearer {TOKEN}" for r in server.requests)
    assert all("opt_fields" in r["query"] for r in server.requests)
    assert TOKEN not in repr(client) and TOKEN not in caplog.text
    await client.aclose()


async def test_429_honours_retry_after_then_succeeds(server: AsanaWireServer) -> None:
    client, sleep = make_client(server)
    p = await client.create_project({"name": "P"})
    server.inject(429, 2, retry_after="7")
    assert (await client.get_project(p.gid)).gid == p.gid
    assert sleep.waits == [7.0, 7.0] and hits(server, "GET", f"/projects/{p.gid}") == 3
    server.inject(429, 1, retry_after="3")
    t = await client.create_task({"name": "after 429"})  # a 429'd POST was not processed: it is retried
    assert sleep.waits[-1] == 3.0 and hits(server, "POST", "/tasks") == 2
    assert (await client.get_task(t.gid)).name == "after 429"
    await client.aclose()


async def test_429_budget_spent_raises_rate_limited(server: AsanaWireServer) -> None:
    client, sleep = make_client(server, max_retries=2)
    server.inject(429, 5, retry_after="1.5")
    with pytest.raises(RateLimited) as info:
        await client.search_tasks()
    assert info.value.retry_after == 1.5 and len(sleep.waits) == 2 and hits(server, "GET", "/search") == 3
    server.wire.faults.clear()
    server.inject(429, 1, retry_after="3600")  # longer than max_retry_after: give up at once, say when
    with pytest.raises(RateLimited) as late:
        await client.search_tasks()
    assert late.value.retry_after == 3600
    await client.aclose()


async def test_5xx_retried_with_jittered_backoff(server: AsanaWireServer) -> None:
    client, sleep = make_client(server, max_retries=3, backoff_base=0.5, backoff_max=1.0)
    p = await client.create_project({"name": "P"})
    server.inject(503, 2)
    assert (await client.get_project(p.gid)).name == "P"
    assert len(sleep.waits) == 2 and 0 <= sleep.waits[0] <= 0.5 and 0 <= sleep.waits[1] <= 1.0
    server.inject(500, 10)
    with pytest.raises(ServerError) as info:
        await client.get_project(p.gid)
    assert "phrase" in info.value.message
    assert hits(server, "GET", f"/projects/{p.gid}") == 3 + 4  # earlier 2 faults + 1, now 1 + 3 retries
    await client.aclose()


async def test_post_not_retried_on_5xx(server: AsanaWireServer) -> None:
    client, sleep = make_client(server)
    server.inject(500, 1)
    with pytest.raises(ServerError):
        await client.create_task({"name": "maybe"})
    assert hits(server, "POST", "/tasks") == 1 and sleep.waits == [] and server.state.tasks == {}
    await client.aclose()


async def test_timeouts_retried_for_reads(server: AsanaWireServer) -> None:
    client, sleep = make_client(server, timeout=0.2)
    p = await client.create_project({"name": "P"})
    server.inject(200, 1, delay=0.5)
    assert (await client.get_project(p.gid)).gid == p.gid
    assert len(sleep.waits) == 1 and hits(server, "GET", f"/projects/{p.gid}") == 2
    await client.aclose()


async def test_error_bodies_are_parsed(server: AsanaWireServer) -> None:
    bad, _ = make_client(server, token="0/wrong")
    with pytest.raises(Unauthorized) as unauth:
        await bad.search_tasks()
    assert unauth.value.message == "Not Authorized"
    await bad.aclose()
    client, _ = make_client(server)
    server.inject(403, 1)
    with pytest.raises(Forbidden) as forbidden:
        await client.search_tasks()
    assert "do not have access" in forbidden.value.message
    t = await client.create_task({"name": "T", "due_on": "2026-01-01"})
    with pytest.raises(InvalidArgument) as dates:  # only the server knows the stored due date
        await client.update_task(t.gid, {"start_on": "2026-02-01"})
    assert dates.value.field == "start_on" and "Start date" in dates.value.message
    await client.aclose()


async def test_wire_format_of_writes(server: AsanaWireServer) -> None:
    client, _ = make_client(server)
    p = await client.create_project({"name": "P"})
    section = (await client.list_sections(p.gid)).data[0]
    t = await client.create_task({"name": "T", "memberships": [{"project": p.gid, "section": section.gid}]})
    await client.update_task(t.gid, {"completed": True})
    await client.add_task_to_section(section.gid, t.gid)
    methods = [(r["method"], r["path"].removeprefix("/api/1.0")) for r in server.requests]
    assert methods == [
        ("POST", "/projects"),
        ("GET", f"/projects/{p.gid}/sections"),
        ("POST", "/tasks"),
        ("PUT", f"/tasks/{t.gid}"),
        ("POST", f"/sections/{section.gid}/addTask"),
    ]
    await client.aclose()


async def test_search_pages_through_equal_created_at(server: AsanaWireServer) -> None:
    server.state.fixed_now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # every task shares one timestamp
    client, _ = make_client(server)
    made = [(await client.create_task({"name": f"Same {i}"})).gid for i in range(5)]
    seen, offset = [], None
    while True:
        page = await client.search_tasks(limit=2, offset=offset)
        seen += [t.gid for t in page.data]
        if page.next_page is None:
            break
        offset = page.next_page.offset
    assert seen == made
    await client.aclose()


async def test_rate_limiter_is_per_system_and_injectable(server: AsanaWireServer) -> None:
    shared = AsyncLimiter(10, 3600)  # leaks too slowly to matter here
    one, _ = make_client(server, limiter=shared)
    two, _ = make_client(server, limiter=shared)
    await one.search_tasks()
    await two.search_tasks()
    assert shared._level == pytest.approx(2, abs=0.05)  # both clients drew from the one bucket
    default, _ = make_client(server)
    assert default._limiter.max_rate == 150 and default._limiter.time_period == 60
    for c in (one, two, default):
        await c.aclose()


async def test_requires_token_and_workspace() -> None:
    with pytest.raises(InvalidArgument) as info:
        AsanaRestClient("http://127.0.0.1:9/api/1.0", token="")
    assert info.value.field == "token"
    client = AsanaRestClient("http://127.0.0.1:9/api/1.0", token=TOKEN, transport=httpx.MockTransport(lambda r: None))
    with pytest.raises(InvalidArgument) as ws:
        await client.search_tasks()
    assert ws.value.field == "workspace"
    await client.aclose()
