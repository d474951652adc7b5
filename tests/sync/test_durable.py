"""The DBOS bootstrap: launch on SQLite and PostgreSQL, run a durable workflow through each engine queue, destroy."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbos import DBOS, SetWorkflowID
from sqlalchemy import create_engine, make_url, text

from sync.durable import (
    QUEUE_NAMES,
    DurableConfig,
    DurableError,
    default_system_database_url,
    launch_durable,
)

CALLS: list[int] = []  # step executions, to show a finished workflow id is never run again


@DBOS.step()
def _double(x: int) -> int:
    CALLS.append(x)
    return 2 * x


@DBOS.workflow()
def _double_twice(x: int) -> int:
    return _double(_double(x))


def durable_config(db_url: str, tmp_path: Path) -> DurableConfig:
    """A DBOS config isolated to this test: a SQLite file under tmp_path, or the test's own PostgreSQL schema."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return DurableConfig(default_system_database_url(db_url), polling_interval_sec=0.1)
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    return DurableConfig(db_url, schema=schema, polling_interval_sec=0.1)


def test_default_system_database_follows_the_spine(tmp_path: Path) -> None:
    assert default_system_database_url(f"sqlite:///{tmp_path}/mcc.db") == f"sqlite:///{tmp_path}/mcc-dbos.sqlite"
    pg = "postgresql+psycopg://u@h:5432/mcc"
    assert default_system_database_url(pg) == pg
    with pytest.raises(DurableError, match="dbos_database_url"):
        default_system_database_url("sqlite://")


def test_workflow_runs_through_every_queue_and_once_per_id(db_url: str, tmp_path: Path) -> None:
    config = durable_config(db_url, tmp_path)
    CALLS.clear()
    with launch_durable(config) as durable:
        assert set(durable.queues) == set(QUEUE_NAMES)
        handles = [durable.queue(name).enqueue(_double_twice, i + 1) for i, name in enumerate(QUEUE_NAMES)]
        assert [h.get_result() for h in handles] == [4, 8, 12]
        assert {h.get_status().queue_name for h in handles} == set(QUEUE_NAMES)
        with SetWorkflowID("wf-once"):
            assert durable.campaign_setup.enqueue(_double_twice, 5).get_result() == 20
        with SetWorkflowID("wf-once"):  # same id: DBOS returns the recorded result, the steps do not run again
            assert durable.campaign_setup.enqueue(_double_twice, 5).get_result() == 20
        assert sorted(CALLS) == [1, 2, 2, 3, 4, 5, 6, 10]
        with pytest.raises(DurableError, match="queue"):
            durable.queue("nope")
        with pytest.raises(DurableError, match="already launched"), launch_durable(config):
            pass

    # Destroyed: a new launch on the same database sees the recorded workflow and its steps.
    with launch_durable(config):
        steps = DBOS.list_workflow_steps("wf-once")
        assert [s["function_name"].rsplit(".", 1)[-1] for s in steps] == ["_double", "_double"]
        assert DBOS.retrieve_workflow("wf-once").get_result() == 20

    if make_url(db_url).get_backend_name() != "sqlite":  # the DBOS tables live in the test's own schema
        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                n = conn.execute(
                    text("select count(*) from information_schema.tables where table_schema = :s"),
                    {"s": config.schema},
                ).scalar_one()
            assert n > 0
        finally:
            engine.dispose()


def test_a_launch_after_stderr_was_replaced_and_closed_still_logs(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import io
    import logging

    config = DurableConfig(f"sqlite:///{tmp_path / 'dbos.sqlite'}", polling_interval_sec=0.1)
    first = io.TextIOWrapper(io.BytesIO())  # like a captured stderr: flushing it once closed raises
    monkeypatch.setattr("sys.stderr", first)
    with launch_durable(config):
        logging.getLogger("dbos").warning("first launch")
    first.close()  # the stream the first launch saw is gone (a test's captured stderr, a redirected one)
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    with launch_durable(config):  # DBOS flushes its console handlers at start: none may hold the closed stream
        logging.getLogger("dbos").warning("second launch")
    assert "second launch" in second.getvalue()
