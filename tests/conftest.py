"""Shared database fixtures: every DB test runs on SQLite and on the PostgreSQL named by MCC_TEST_POSTGRES_URL.

- ``db_backend``: "sqlite" | "postgresql" (parametrized; PostgreSQL skips when the env var is missing,
  and fails instead when ``CI`` is set).
- ``db_url``: URL of a fresh, EMPTY database (SQLite file under tmp_path, or a private PostgreSQL schema
  selected through ``search_path``), dropped after the test.
- ``engine``: an engine on a database migrated to head, isolated per test (SQLite: a copy of a migrated
  template file; PostgreSQL: one migrated schema per pytest session, every table emptied after each test).
- ``session_factory``: ``spine.db.make_session_factory(engine)``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

import spine.models  # noqa: F401  (register every table)
from spine.db import Base, make_engine, make_session_factory
from spine.migrate import upgrade

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _postgres_base_url() -> str:
    url = os.environ.get("MCC_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("MCC_TEST_POSTGRES_URL is not set (required under CI)")
        pytest.skip("MCC_TEST_POSTGRES_URL is not set")
    return url


def _schema_url(base: str, schema: str) -> str:
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _admin(base: str) -> Engine:
    return create_engine(base, isolation_level="AUTOCOMMIT")


def _create_schema(base: str, schema: str) -> None:
    admin = _admin(base)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()


def _drop_schema(base: str, schema: str) -> None:
    admin = _admin(base)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        _postgres_base_url()
    return request.param


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no tables) of the current backend."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'mcc-empty.db'}"
        return
    base = _postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _create_schema(base, schema)
    try:
        yield _schema_url(base, schema)
    finally:
        _drop_schema(base, schema)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spine-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine]:
    base = _postgres_base_url()
    schema = f"s_{uuid.uuid4().hex[:12]}"
    _create_schema(base, schema)
    engine = make_engine(_schema_url(base, schema))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        _drop_schema(base, schema)


def _empty_all(engine: Engine) -> None:
    # DELETE (children first) is far faster than TRUNCATE on the small tables tests leave behind.
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def engine(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a migrated (head) database that no other test sees."""
    if db_backend == "sqlite":
        path = tmp_path / "mcc.db"
        template: Path = request.getfixturevalue("_sqlite_template")
        shutil.copyfile(template, path)
        eng = make_engine(f"sqlite:///{path}")
        try:
            yield eng
        finally:
            eng.dispose()
        return
    pg: Engine = request.getfixturevalue("_pg_engine")
    try:
        yield pg
    finally:
        pg.dispose()  # drop connections a test may have left checked out in odd states
        _empty_all(pg)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)
