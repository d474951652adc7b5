"""The composition root hands DBOS its system database: next to a SQLite spine, the spine itself on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from mcc.settings import Settings
from mcc.wiring import App
from spine.db import make_engine, make_session_factory


def app_for(**settings: object) -> App:
    s = Settings(**settings)  # type: ignore[arg-type]
    engine = make_engine(s.resolved_database_url)  # no connection is made: nothing here touches the database
    return App(settings=s, engine=engine, sessions=make_session_factory(engine))


def test_dbos_defaults_follow_the_spine_database(tmp_path: Path) -> None:
    config = app_for(home=tmp_path).durable_config()
    assert config.system_database_url == f"sqlite:///{tmp_path / 'mcc-dbos.sqlite'}"
    assert (config.schema, config.executor_id) == ("dbos", "local")

    pg = "postgresql+psycopg://mcc@db-host:5432/mcc"
    config = app_for(home=tmp_path, database_url=pg, dbos_schema="jobs", dbos_executor_id="w2").durable_config()
    assert (config.system_database_url, config.schema, config.executor_id) == (pg, "jobs", "w2")


def test_dbos_database_can_be_set_apart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    config = app_for(home=tmp_path, dbos_database_url=url, dbos_polling_sec=0.2).durable_config()
    assert (config.system_database_url, config.polling_interval_sec) == (url, 0.2)
