"""A rate-limited caller must be told, in a structured way, how long to wait: ``retry_after_s`` in the error (the
rendered text carries ``retry_after_s=<seconds>``), one message ("retry in 0.3 s", never "wait 0 s"), the same
number everywhere, also when the external system itself answered 429. Real guarded Workfront server."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connectors.asana.errors import RateLimited as AsanaRateLimited
from connectors.workfront.errors import RateLimited as WorkfrontRateLimited
from mcc.demo_world import seed_demo_world
from mcc.settings import load_settings
from mcc.wiring import App
from mcp_servers.guard.errors import from_exception
from mcp_servers.guard.toolkit import ToolFailure
from policies.ratelimit import format_retry, retry_seconds
from spine.db import make_session_factory
from tests.security.conftest import call_as

NUMBER = r"(\d+\.\d)"


@pytest.fixture
async def tight(engine: Engine, tmp_path: Path) -> AsyncIterator[App]:
    settings = load_settings(home=tmp_path, workfront_rate_per_minute=1, rate_store="memory")
    app = App(settings=settings, engine=engine, sessions=make_session_factory(engine))
    await seed_demo_world(app, today=dt.date(2026, 11, 1))
    yield app
    await app.aclose_backends()


async def test_a_rate_limited_call_says_when_to_retry_in_one_structured_way(tight: App) -> None:
    first_ok, _ = await call_as(tight, "maya.chen", "workfront", "search", {"obj_code": "PROJ", "limit": 5})
    ok, err = await call_as(tight, "maya.chen", "workfront", "search", {"obj_code": "PROJ", "limit": 5})
    assert first_ok and not ok and "[denied]" in err
    said = re.findall(rf"retry in {NUMBER} s", err)
    field = re.search(rf"retry_after_s={NUMBER}$", err)
    assert field and said and set(said) == {field.group(1)}, err  # message, fix and field agree
    assert 0 < float(field.group(1)) <= 60 and "wait" not in err


@pytest.mark.parametrize(("raw", "shown"), [(0.0, "0.1"), (0.04, "0.1"), (0.26, "0.3"), (0.3, "0.3"), (59.91, "60.0")])
def test_waits_are_rounded_up_to_a_tenth_never_to_zero(raw: float, shown: str) -> None:
    assert format_retry(raw) == shown and retry_seconds(raw) == float(shown)
    assert ToolFailure("slow down", code="denied", retry_after_s=raw).render().endswith(f"retry_after_s={shown}")


@pytest.mark.parametrize(
    "exc", [WorkfrontRateLimited("Workfront rate limit", retry_after=2.25), AsanaRateLimited("429", retry_after=2.25)]
)
def test_an_upstream_429_keeps_its_retry_after_in_the_structured_error(exc: Exception) -> None:
    failure = from_exception(exc, "search", {})
    assert failure.code == "rate_limited" and failure.retry_after_s == 2.3
    assert failure.render().endswith("retry_after_s=2.3")
