"""REST-client specifics against the wire server: auth, 429/Retry-After, 5xx and timeouts, error bodies,
rate limiter, secrecy of the key."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from connectors.workfront.client import WorkfrontRestClient
from connectors.workfront.errors import InvalidArgument, NotFound, PermissionDenied, RateLimited, ServerError
from connectors.workfront.transport import parse_retry_after
from tests.connectors.workfront.conftest import ALICE, MISSING, load_wire_reference, rest_client
from tests.wire.workfront_server import TOKEN, WorkfrontWireServer


@pytest.fixture
def wire(workfront_wire: WorkfrontWireServer) -> WorkfrontWireServer:
    load_wire_reference(workfront_wire)
    return workfront_wire


async def test_session_header_auth(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire)
    await client.search("USER")
    seen = wire.state.seen[0]
    assert seen.path == "/attask/api/v20.0/user/search"
    assert seen.headers["sessionid"] == TOKEN
    assert "authorization" not in seen.headers
    assert all(TOKEN not in value for _, value in seen.params)  # never in the URL
    await client.aclose()


async def test_bearer_auth_and_api_version(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire, auth="bearer", api_version="19.0")
    await client.search("USER")
    seen = wire.state.seen[0]
    assert seen.path == "/attask/api/v19.0/user/search"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert "sessionid" not in seen.headers
    await client.aclose()


async def test_wrong_key_is_permission_denied(wire: WorkfrontWireServer) -> None:
    client = WorkfrontRestClient(wire.base_url, "not-the-token", backoff_base=0.01)
    with pytest.raises(PermissionDenied, match="not currently logged in"):
        await client.search("PROJ")
    assert len(wire.state.seen) == 1  # 401 is not retried
    await client.aclose()


async def test_search_wire_parameters(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire)
    filters = {"status": ["CUR", "PLN"], "status_Mod": "in", "plannedStartDate": "2026-01-01"}
    filters |= {"plannedStartDate_Range": "2026-02-01", "plannedStartDate_Mod": "between"}
    await client.search("PROJ", filters, ["name", "DE:Region"], limit=25, first=50)
    search, count = wire.state.seen
    assert (search.path, count.path) == ("/attask/api/v20.0/proj/search", "/attask/api/v20.0/proj/count")
    params = search.params
    for pair in [
        ("status", "CUR"),
        ("status", "PLN"),
        ("status_Mod", "in"),
        ("plannedStartDate", "2026-01-01"),
        ("plannedStartDate_Range", "2026-02-01"),
        ("plannedStartDate_Mod", "between"),
        ("fields", "name,DE:Region"),
        ("$$FIRST", "50"),
        ("$$LIMIT", "25"),
        ("ID_Sort", "asc"),
    ]:
        assert pair in params
    await client.aclose()


async def test_429_waits_for_retry_after_seconds(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire)
    wire.state.fail_next(429, retry_after="1")
    page = await client.search("USER", limit=5)
    assert page.total == 3
    attempts = wire.state.requests("GET", "/user/search")
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 0.9  # server-observed gap honours Retry-After
    await client.aclose()


async def test_429_then_post_is_retried_once_created(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire)
    wire.state.fail_next(429, retry_after="0")
    project = await client.create_project("After 429", planned_start_date="2026-03-02")
    assert len(wire.state.requests("POST", "/proj")) == 2
    assert list(wire.state.objects["PROJ"]) == [project.id]
    await client.aclose()


async def test_429_too_long_or_too_often_raises_rate_limited(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire, max_retry_after=5, max_retries=2)
    wire.state.fail_next(429, retry_after="120")
    with pytest.raises(RateLimited) as info:
        await client.search("USER")
    assert info.value.retry_after == 120 and len(wire.state.seen) == 1
    wire.state.seen.clear()
    wire.state.fail_next(429, times=5, retry_after="0")
    with pytest.raises(RateLimited):
        await client.search("USER")
    assert len(wire.state.seen) == 3
    wire.state.injected.clear()
    await client.aclose()


def test_retry_after_http_date() -> None:
    now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 02 Mar 2026 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Mon, 02 Mar 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_5xx_is_retried_then_succeeds(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire)
    wire.state.fail_next(500, times=2)
    page = await client.search("TEAMOB")
    assert page.total == 2
    assert len(wire.state.requests("GET", "/teamob/search")) == 3
    await client.aclose()


async def test_5xx_gives_up_with_server_error(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire, max_retries=2)
    wire.state.fail_next(503, times=10)
    with pytest.raises(ServerError) as info:
        await client.get_project(MISSING)
    assert info.value.status == 503 and not info.value.outcome_unknown
    assert len(wire.state.seen) == 3
    wire.state.injected.clear()
    await client.aclose()


async def test_post_is_not_retried_on_5xx(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire)
    wire.state.fail_next(500)
    with pytest.raises(ServerError) as info:
        await client.create_project("Maybe created", planned_start_date="2026-03-02")
    assert info.value.outcome_unknown
    assert len(wire.state.requests("POST")) == 1
    await client.aclose()


async def test_timeouts(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire, timeout=0.2, max_retries=1)
    wire.state.delay_seconds = 0.5
    with pytest.raises(ServerError) as info:
        await client.search("USER")
    assert not info.value.outcome_unknown
    assert len(wire.state.requests("GET", "/user/search")) == 2  # GET retried once
    with pytest.raises(ServerError) as info:
        await client.add_note("PROJ", MISSING, "hello")
    assert len(wire.state.requests("GET", "/proj/")) == 2
    wire.state.delay_seconds = 0
    await client.aclose()


async def test_post_timeout_is_outcome_unknown(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire, timeout=0.2)
    wire.state.delay_seconds = 0.5
    with pytest.raises(ServerError) as info:
        await client.create_project("Slow", planned_start_date="2026-03-02")
    assert info.value.outcome_unknown
    assert len(wire.state.requests("POST")) == 1
    wire.state.delay_seconds = 0
    await client.aclose()


@pytest.mark.parametrize(
    ("status", "cls", "expected"),
    [
        (422, "java.lang.IllegalArgumentException", InvalidArgument),
        (400, "com.attask.common.InvalidParameterException", InvalidArgument),
        (404, "com.attask.common.NotFoundException", NotFound),
        (403, "com.attask.common.SecurityException", PermissionDenied),
        (409, "com.attask.common.ValidationException", InvalidArgument),
    ],
)
async def test_error_bodies_map_to_exceptions(
    wire: WorkfrontWireServer, status: int, cls: str, expected: type[Exception]
) -> None:
    client = rest_client(wire)
    project = await client.create_project("Target", planned_start_date="2026-03-02")
    body = {"error": {"class": cls, "message": "server says no", "title": "Nope"}}
    wire.state.fail_next(status, body=body)
    with pytest.raises(expected) as info:
        await client.update_status("project", project.id, "CUR")
    if expected is not PermissionDenied:
        assert info.value.field == "obj_id"  # type: ignore[attr-defined]
    if expected is not NotFound:
        assert "server says no" in str(info.value)
    await client.aclose()


async def test_unreadable_answer_is_server_error(wire: WorkfrontWireServer) -> None:
    client = rest_client(wire)
    wire.state.fail_next(200, body={"unexpected": True})
    with pytest.raises(ServerError, match="neither data nor error"):
        await client.search("USER")
    await client.aclose()


async def test_rate_limiter_configuration(wire: WorkfrontWireServer) -> None:
    default = WorkfrontRestClient(wire.base_url, TOKEN)
    assert (default.http.limiter.max_rate, default.http.limiter.time_period) == (100, 60.0)
    await default.aclose()
    tight = rest_client(wire, rate_per_minute=2)
    await tight.search("USER")  # search + count: two tokens
    assert not tight.http.limiter.has_capacity()
    await tight.aclose()


async def test_key_is_never_logged_or_shown(wire: WorkfrontWireServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = rest_client(wire, timeout=0.2, max_retries=1)
    await client.assign_resource(
        (await client.create_task((await client.create_project("P", planned_start_date="2026-03-02")).id, "T")).id,
        ALICE,
    )
    wire.state.fail_next(500)
    wire.state.delay_seconds = 0.5
    with pytest.raises(ServerError):
        await client.search("USER")
    wire.state.delay_seconds = 0
    assert caplog.records  # the client does log its requests...
    assert TOKEN not in caplog.text  # ...but never the key
    assert TOKEN not in repr(client)
    await client.aclose()


async def test_a_retry_sent_while_the_first_create_is_in_flight_gets_the_same_object(
    wire: WorkfrontWireServer,
) -> None:
    client = rest_client(wire)
    project = await client.create_project("In flight", planned_start_date="2026-03-02")
    wire.state.delay_seconds = 0.2  # Workfront answers slowly: the retry arrives before the first task exists
    first, retry = await asyncio.gather(
        client.create_task(project.id, "Once", idempotency_key="key-flight-1"),
        client.create_task(project.id, "Once", idempotency_key="key-flight-1"),
    )
    wire.state.delay_seconds = 0
    assert first.id == retry.id
    assert [t["ID"] for t in wire.state.objects["TASK"].values() if t["name"] == "Once"] == [first.id]
    assert len(wire.state.requests("POST")) == 2  # the project and one task
    await client.aclose()


async def test_a_create_whose_answer_was_lost_is_not_made_twice(wire: WorkfrontWireServer) -> None:
    # The first process created the project but never recorded the answer (crash, lost response); the retry
    # with the same idempotency key, from a new client, finds it by extRefID instead of creating it again.
    client = rest_client(wire)
    await client.create_project("Lost answer", planned_start_date="2026-03-02", idempotency_key="key-lost-1")
    await client.aclose()

    again = rest_client(wire)
    project = await again.create_project("Lost answer", planned_start_date="2026-03-02", idempotency_key="key-lost-1")
    made = [p for p in wire.state.objects["PROJ"].values() if p["name"] == "Lost answer"]
    assert [p["ID"] for p in made] == [project.id]
    assert made[0]["extRefID"] == "key-lost-1"
    assert len(wire.state.requests("POST")) == 1

    task = await again.create_task(project.id, "Once", idempotency_key="key-task-1")
    assert (await again.create_task(project.id, "Once", idempotency_key="key-task-1")).id == task.id
    issue = await again.create_issue(project.id, "Broken link", idempotency_key="key-issue-1")
    assert (await again.create_issue(project.id, "Broken link", idempotency_key="key-issue-1")).id == issue.id
    assert len(wire.state.requests("POST")) == 3

    with pytest.raises(InvalidArgument) as bad:
        await again.create_task(project.id, "Something else", idempotency_key="key-task-1")
    assert bad.value.field == "idempotency_key"
    await again.aclose()
