"""start_campaign_setup in a process that is not a worker (chat, ask, web, evals): ``inline`` starts DBOS in the
process on the first call and stops it on close, so the next App can launch its own; ``external`` only enqueues;
a DBOS another App launched is refused with a clear error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dbos._dbos as dbos_internals
import pytest
from mcp import Client
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mcc.settings import Settings
from mcc.wiring import App
from mcp_servers.guard.identity import FixedPrincipal
from policies.model import Principal
from tests.sync.setup_world import TENANT, campaign_fields, counts, seed_world


@pytest.fixture
def make_app(engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Any]:
    seed_world(session_factory, tmp_path)
    schema = f"dbos_{uuid.uuid4().hex[:10]}"
    url = engine.url.render_as_string(hide_password=False)
    dbos_url = f"sqlite:///{tmp_path / 'dbos.sqlite'}" if engine.dialect.name == "sqlite" else url
    made: list[App] = []

    def make(mode: str = "inline") -> App:
        settings = Settings(home=tmp_path, database_url=url, dbos_database_url=dbos_url, dbos_schema=schema,
                            audit_key="a" * 40, campaign_setup_wait_sec=60, campaign_setup_worker=mode)  # fmt: skip
        made.append(App(settings=settings, engine=engine, sessions=session_factory))
        return made[-1]

    try:
        yield make
    finally:
        for app in made:
            app.stop_inline_worker()
        if engine.dialect.name != "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def _setup(app: App, **args: Any) -> tuple[bool, Any]:
    groups = frozenset(app.groups_of(TENANT, "maya.chen") or ())
    async with Client(app.spine_server(FixedPrincipal(Principal("maya.chen", TENANT, groups)))) as client:
        result = await client.call_tool("start_campaign_setup", {"idempotency_key": f"k-{uuid.uuid4().hex}", **args})
    return (False, result.content[0].text) if result.is_error else (True, result.structured_content)


async def test_inline_worker_runs_the_workflow_and_stops_on_close(make_app: Any, tmp_path: Path) -> None:
    first = make_app()
    assert dbos_internals._dbos_global_instance is None
    ok, run = await _setup(first, **campaign_fields())
    assert ok and run["status"] == "SUCCESS", run
    assert dbos_internals._dbos_global_instance is not None  # this process is a worker now

    other = make_app()  # a second App of the process may not bind the same DBOS to itself
    ok, err = await _setup(other, **campaign_fields(name="Second push"))
    assert not ok and "already" in err and "campaign_setup_worker" in err, err

    first.close()
    assert dbos_internals._dbos_global_instance is None
    ok, run = await _setup(other, **campaign_fields(name="Second push"))  # now it launches its own
    assert ok and run["status"] == "SUCCESS", run
    assert counts(other.sessions, tmp_path)["wf_projects"] == 2


async def test_external_mode_only_enqueues(make_app: Any, tmp_path: Path) -> None:
    app = make_app("external")
    ok, run = await _setup(app, **campaign_fields())
    assert ok and run["status"] == "ENQUEUED", run
    assert dbos_internals._dbos_global_instance is None
    assert counts(app.sessions, tmp_path)["wf_projects"] == 0
